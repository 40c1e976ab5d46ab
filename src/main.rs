fn main() {
    for path in std::env::args().skip(1) {
        match eksform::spec::load(std::path::Path::new(&path)) {
            Ok(s) => println!("ok {}", s.spec.stack.value),
            Err(d) => print!("{d}"),
        }
    }
}
