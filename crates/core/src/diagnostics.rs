//! Diagnostics: problems found in user input, collected as values and rendered
//! at the edge (the CLI) with miette. Nothing here prints.

use std::fmt;
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

/// A source file as the user wrote it, kept so that diagnostics can quote it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: Arc<str>,
    /// The files this one `extends`, nearest first. A span's `source` says which
    /// file its text is in: 0 is this file, `i` is `bases[i - 1]`.
    pub bases: Arc<[SourceFile]>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
            bases: Arc::new([]),
        }
    }

    /// The file that holds the text of `span`.
    pub fn holding(&self, span: &Span) -> &SourceFile {
        match span.source {
            0 => self,
            i => self.bases.get(i - 1).unwrap_or(self),
        }
    }

    /// The byte offset of a 1-based line and column.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let line_start: usize = self
            .text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum();
        let rest = &self.text[line_start.min(self.text.len())..];
        let within: usize = rest
            .chars()
            .take(column.saturating_sub(1))
            .map(char::len_utf8)
            .sum();
        (line_start + within).min(self.text.len())
    }

    /// The 1-based line and column of a byte offset.
    pub fn line_column(&self, byte_offset: usize) -> (usize, usize) {
        let offset = byte_offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A place in a source file: byte range plus the human line:column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
    pub line: usize,
    pub column: usize,
    /// Which file of an `extends` chain (see `SourceFile::holding`).
    pub source: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub file: Option<SourceFile>,
    pub span: Option<Span>,
    /// What would be valid, or how to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
            file: None,
            span: None,
            help: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(message)
        }
    }

    pub fn at(mut self, file: &SourceFile, mut span: Span) -> Self {
        let file = file.holding(&span);
        // Some parser errors know the line and column but not the byte offset.
        if span.offset == 0 && span.line > 1 {
            span.offset = file.offset_of(span.line, span.column);
        }
        self.file = Some(SourceFile::new(file.path.clone(), file.text.clone()));
        self.span = Some(span);
        self
    }

    pub fn in_file(mut self, file: &SourceFile) -> Self {
        self.file = Some(file.clone());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column`, or just the file, or nothing.
    pub fn location(&self) -> Option<String> {
        match (&self.file, &self.span) {
            (Some(file), Some(span)) => {
                Some(format!("{}:{}:{}", file.path, span.line, span.column))
            }
            (Some(file), None) => Some(file.path.clone()),
            _ => None,
        }
    }
}

impl fmt::Display for Diagnostic {
    /// One line per diagnostic, `file:line:column: message`: what logs and tests read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = self.location() {
            write!(f, "{location}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// A diagnostic made ready for miette's graphical renderer: the message carries
/// `file:line:column` so the location survives in plain-text logs too.
#[derive(Debug)]
pub struct RenderedDiagnostic {
    text: String,
    help: Option<String>,
    source_code: Option<NamedSource<Arc<str>>>,
    label: Option<SourceSpan>,
    severity: miette::Severity,
}

impl fmt::Display for RenderedDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for RenderedDiagnostic {}

impl miette::Diagnostic for RenderedDiagnostic {
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source_code
            .as_ref()
            .map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let label = self.label?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some("here".into()), label),
        )))
    }
}

impl From<&Diagnostic> for RenderedDiagnostic {
    fn from(d: &Diagnostic) -> Self {
        Self {
            text: format!(
                "{}{}",
                d.location().map(|l| format!("{l}: ")).unwrap_or_default(),
                d.message
            ),
            help: d.help.clone(),
            source_code: d
                .file
                .as_ref()
                .filter(|_| d.span.is_some())
                .map(|f| NamedSource::new(f.path.clone(), f.text.clone())),
            label: d
                .span
                .map(|s| SourceSpan::new(s.offset.into(), s.len.max(1))),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
        }
    }
}

/// Diagnostics collected over a whole input, so that a user sees every problem at once.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.severity == Severity::Error)
    }

    /// Sorted by file and position, so output is stable and reads top to bottom.
    pub fn sorted(mut self) -> Self {
        self.items.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                (
                    d.file.as_ref().map(|f| f.path.clone()),
                    d.span.map(|s| (s.line, s.column)),
                )
            };
            key(a).cmp(&key(b))
        });
        self
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}
