//! `eksform kubeconfig`: the stack's live cluster merged into a kubeconfig
//! file. The cluster comes from the stack's outputs; the entries it writes
//! (a cluster and a user named by the cluster's ARN, a context named by the
//! alias or the ARN) replace only same-named ones, and everything else in the
//! file is kept. The user runs `eksform token` as kubectl's exec credential
//! plugin. Reading and merging are pure (`Kubeconfig`); the file is written
//! atomically with mode 0600.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{AwsAccess, OpsError, Stack, stack_outputs};
use eksform_aws::eks_token::EXEC_CREDENTIAL_API_VERSION;
use eksform_core::outputs::Outputs;

/// The lists of named entries a kubeconfig holds.
const NAMED_LISTS: [&str; 3] = ["clusters", "contexts", "users"];

/// What kubectl needs to reach and authenticate to a live EKS cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCluster {
    pub name: String,
    pub region: String,
    pub arn: String,
    pub endpoint: String,
    pub certificate_authority_data: String,
}

impl LiveCluster {
    /// The cluster of a stack's outputs; `None` when any part of it is not live.
    pub fn from_outputs(outputs: &Outputs, region: &str) -> Option<Self> {
        Some(Self {
            name: outputs.cluster_name.clone()?,
            region: region.into(),
            arn: outputs.cluster_arn.clone()?,
            endpoint: outputs.cluster_endpoint.clone()?,
            certificate_authority_data: outputs.certificate_authority_data.clone()?,
        })
    }
}

/// What `write_kubeconfig` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigWritten {
    /// The file written (a symbolic link's target).
    pub path: PathBuf,
    /// The context added or replaced, now the current context.
    pub context: String,
    pub cluster: LiveCluster,
}

/// The kubeconfig to write when none is given: the first path of
/// `$KUBECONFIG`, else `~/.kube/config` (kubectl's own choice).
pub fn default_kubeconfig_path(
    kubeconfig_variable: Option<&OsStr>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    kubeconfig_variable
        .and_then(|paths| std::env::split_paths(paths).find(|p| !p.as_os_str().is_empty()))
        .or_else(|| home.map(|home| home.join(".kube").join("config")))
}

/// A kubeconfig file's contents, kept whole (unknown fields included) so that
/// writing it back loses nothing but what is replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Kubeconfig(Map<String, Value>);

impl Kubeconfig {
    /// An empty kubeconfig, as kubectl starts one.
    pub fn new() -> Self {
        let mut map = Map::new();
        map.insert("apiVersion".into(), "v1".into());
        map.insert("kind".into(), "Config".into());
        map.insert("preferences".into(), Value::Object(Map::new()));
        for list in NAMED_LISTS {
            map.insert(list.into(), Value::Array(vec![]));
        }
        Self(map)
    }

    /// An existing file's text: empty is a new kubeconfig; anything that is
    /// not a kubeconfig (another YAML file given by mistake, such as a spec)
    /// is refused with the reason, so that it is never overwritten.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text
            .lines()
            .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
        {
            return Ok(Self::new());
        }
        let value: Value = serde_saphyr::from_str(text)
            .map_err(|e| format!("it is not YAML: {}", first_line(&e.to_string())))?;
        let map = match value {
            Value::Null => return Ok(Self::new()),
            Value::Object(map) => map,
            _ => return Err("it is not a YAML mapping".into()),
        };
        match map.get("kind") {
            Some(Value::String(kind)) if kind == "Config" => {}
            Some(other) => return Err(format!("its kind is {other}, not Config")),
            None => {
                let kubeconfig_keys = ["clusters", "contexts", "users", "current-context"];
                if !kubeconfig_keys.iter().any(|key| map.contains_key(*key)) {
                    return Err(
                        "it has no kind: Config and none of clusters, contexts, users, current-context"
                            .into(),
                    );
                }
            }
        }
        if let Some(version) = map.get("apiVersion").filter(|v| !v.is_null())
            && version != "v1"
        {
            return Err(format!("its apiVersion is {version}, not v1"));
        }
        for list in NAMED_LISTS {
            match map.get(list) {
                None | Some(Value::Null | Value::Array(_)) => {}
                Some(_) => return Err(format!("its {list} is not a list")),
            }
        }
        Ok(Self(map))
    }

    /// This kubeconfig with `cluster`'s cluster, user and context entries
    /// (replacing same-named ones in place, appending new ones), and the
    /// context current. The user's credential is `eksform token` with
    /// `profile` when one was given.
    pub fn with_cluster(
        mut self,
        cluster: &LiveCluster,
        context: &str,
        profile: Option<&str>,
    ) -> Self {
        let mut args = vec![
            "token".to_string(),
            "--cluster".into(),
            cluster.name.clone(),
            "--region".into(),
            cluster.region.clone(),
        ];
        if let Some(profile) = profile {
            args.extend(["--profile".to_string(), profile.to_string()]);
        }
        self.put(
            "clusters",
            &cluster.arn,
            "cluster",
            serde_json::json!({
                "server": cluster.endpoint,
                "certificate-authority-data": cluster.certificate_authority_data,
            }),
        );
        self.put(
            "users",
            &cluster.arn,
            "user",
            serde_json::json!({
                "exec": {
                    "apiVersion": EXEC_CREDENTIAL_API_VERSION,
                    "command": "eksform",
                    "args": args,
                    "interactiveMode": "Never",
                }
            }),
        );
        self.put(
            "contexts",
            context,
            "context",
            serde_json::json!({ "cluster": cluster.arn, "user": cluster.arn }),
        );
        self.0
            .insert("current-context".into(), Value::String(context.into()));
        self
    }

    /// The entry `name` of the list `list` (`{name, <field>: body}`), in
    /// place of the same-named one or at the end.
    fn put(&mut self, list: &str, name: &str, field: &str, body: Value) {
        let mut entry = Map::new();
        entry.insert("name".into(), Value::String(name.into()));
        entry.insert(field.into(), body);
        let entry = Value::Object(entry);
        let items = self.0.entry(list).or_insert_with(|| Value::Array(vec![]));
        if !items.is_array() {
            *items = Value::Array(vec![]);
        }
        let Value::Array(items) = items else {
            return;
        };
        match items
            .iter_mut()
            .find(|item| item.get("name").and_then(Value::as_str) == Some(name))
        {
            Some(same) => *same = entry,
            None => items.push(entry),
        }
    }

    /// The file's text (YAML), long strings (certificate data) on one line
    /// as kubectl writes them rather than in folded blocks.
    pub fn to_yaml(&self) -> Result<String, String> {
        let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
        serde_saphyr::to_string_with_options(&self.0, options).map_err(|e| e.to_string())
    }
}

impl Default for Kubeconfig {
    fn default() -> Self {
        Self::new()
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Merges the stack's live cluster into the kubeconfig at `path` (created
/// with its directory when missing) under the context `alias` (default: the
/// cluster's ARN), and makes that context current. The file is checked
/// before AWS is asked anything.
pub async fn write_kubeconfig(
    access: &AwsAccess,
    stack: &Stack,
    path: &Path,
    alias: Option<&str>,
) -> Result<KubeconfigWritten, OpsError> {
    let path = behind_links(path);
    let existing = read_kubeconfig(&path)?;
    let outputs = stack_outputs(access, stack).await?;
    let cluster = LiveCluster::from_outputs(&outputs, &stack.model.region).ok_or_else(|| {
        OpsError::NoLiveCluster {
            stack: stack.model.stack.clone(),
            region: stack.model.region.clone(),
        }
    })?;
    let context = alias.unwrap_or(&cluster.arn).to_string();
    let text = existing
        .with_cluster(&cluster, &context, access.profile.as_deref())
        .to_yaml()
        .map_err(|reason| OpsError::KubeconfigNotWritten {
            path: path.clone(),
            reason,
        })?;
    write_atomically(&path, &text).map_err(|e| OpsError::KubeconfigNotWritten {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(KubeconfigWritten {
        path,
        context,
        cluster,
    })
}

/// The file `path` names, through symbolic links (a dotfiles checkout's
/// link keeps pointing at the file it names); `path` itself when it does
/// not exist yet.
fn behind_links(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The kubeconfig at `path`; a new one when there is no file.
fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, OpsError> {
    let not_one = |reason: String| OpsError::NotAKubeconfig {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let text =
                String::from_utf8(bytes).map_err(|_| not_one("it is not UTF-8 text".into()))?;
            Kubeconfig::parse(&text).map_err(not_one)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Kubeconfig::new()),
        Err(e) => Err(not_one(format!("it cannot be read: {e}"))),
    }
}

/// Writes `text` to `path` through a temporary file beside it, renamed over
/// it: a reader (or a crash) sees the old file or the new one, never half.
/// The file holds credentials' wiring, so it is readable by its owner only.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let directory = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(directory)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());
    let temporary = directory.join(format!(".{name}.eksform-{}.tmp", std::process::id()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        // A leftover temporary file keeps its old mode through `open`.
        #[cfg(unix)]
        std::fs::set_permissions(
            &temporary,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> LiveCluster {
        LiveCluster {
            name: "prd-eks".into(),
            region: "eu-west-1".into(),
            arn: "arn:aws:eks:eu-west-1:111122223333:cluster/prd-eks".into(),
            endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com".into(),
            certificate_authority_data: "LS0tLS1CRUdJTg==".into(),
        }
    }

    const OTHER: &str = "\
apiVersion: v1
kind: Config
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: AAAA
contexts:
- name: kind-dev
  context:
    cluster: kind-dev
    user: kind-dev
    namespace: web
current-context: kind-dev
preferences:
  colors: true
users:
- name: kind-dev
  user:
    client-certificate-data: BBBB
extensions:
- name: some-tool
  extension:
    setting: 1
";

    fn named<'a>(config: &'a Value, list: &str, name: &str) -> &'a Value {
        config[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {list}: {config}"))
    }

    fn reread(config: &Kubeconfig) -> Value {
        serde_saphyr::from_str(&config.to_yaml().unwrap()).unwrap()
    }

    #[test]
    fn the_cluster_is_added_beside_what_the_file_holds() {
        let merged =
            Kubeconfig::parse(OTHER)
                .unwrap()
                .with_cluster(&cluster(), "prd", Some("prod-admin"));
        let value = reread(&merged);
        let arn = cluster().arn;
        assert_eq!(
            named(&value, "clusters", &arn)["cluster"],
            serde_json::json!({
                "server": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
                "certificate-authority-data": "LS0tLS1CRUdJTg==",
            })
        );
        assert_eq!(
            named(&value, "users", &arn)["user"]["exec"],
            serde_json::json!({
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "eksform",
                "args": ["token", "--cluster", "prd-eks", "--region", "eu-west-1", "--profile", "prod-admin"],
                "interactiveMode": "Never",
            })
        );
        assert_eq!(
            named(&value, "contexts", "prd")["context"],
            serde_json::json!({ "cluster": arn, "user": arn })
        );
        assert_eq!(value["current-context"], "prd");
        // What was there stays, unknown fields included.
        let before: Value = serde_saphyr::from_str(OTHER).unwrap();
        for list in NAMED_LISTS {
            assert_eq!(
                named(&value, list, "kind-dev"),
                named(&before, list, "kind-dev")
            );
        }
        assert_eq!(value["preferences"], before["preferences"]);
        assert_eq!(value["extensions"], before["extensions"]);
    }

    #[test]
    fn a_second_merge_replaces_same_named_entries_and_changes_nothing_else() {
        let once = Kubeconfig::parse(OTHER)
            .unwrap()
            .with_cluster(&cluster(), "prd", None);
        let text = once.to_yaml().unwrap();
        let twice = Kubeconfig::parse(&text)
            .unwrap()
            .with_cluster(&cluster(), "prd", None);
        assert_eq!(twice.to_yaml().unwrap(), text);

        let mut moved = cluster();
        moved.endpoint = "https://NEW.eks.amazonaws.com".into();
        let value = reread(&twice.with_cluster(&moved, "prd", None));
        for list in NAMED_LISTS {
            assert_eq!(value[list].as_array().unwrap().len(), 2, "{list}: {value}");
        }
        assert_eq!(
            named(&value, "clusters", &cluster().arn)["cluster"]["server"],
            "https://NEW.eks.amazonaws.com"
        );
        let args = &named(&value, "users", &cluster().arn)["user"]["exec"]["args"];
        assert_eq!(
            args,
            &serde_json::json!(["token", "--cluster", "prd-eks", "--region", "eu-west-1"])
        );
    }

    #[test]
    fn a_long_certificate_is_written_on_one_line() {
        let mut long = cluster();
        long.certificate_authority_data = "LS0tLS1CRUdJTiBDRVJU".repeat(70);
        let text = Kubeconfig::new()
            .with_cluster(&long, "prd", None)
            .to_yaml()
            .unwrap();
        assert!(
            text.lines().any(|line| line.trim_start()
                == format!(
                    "certificate-authority-data: {}",
                    long.certificate_authority_data
                )),
            "{text}"
        );
    }

    #[test]
    fn an_empty_file_becomes_a_kubeconfig_of_the_cluster() {
        for text in ["", "\n", "# nothing yet\n"] {
            let value = reread(&Kubeconfig::parse(text).unwrap().with_cluster(
                &cluster(),
                &cluster().arn,
                None,
            ));
            assert_eq!(value["apiVersion"], "v1");
            assert_eq!(value["kind"], "Config");
            assert_eq!(value["current-context"], cluster().arn.as_str());
            for list in NAMED_LISTS {
                assert_eq!(value[list].as_array().unwrap().len(), 1, "{list}");
            }
        }
    }

    #[test]
    fn what_is_not_a_kubeconfig_is_refused_with_the_reason() {
        for (text, reason) in [
            ("stack: prd\nregion: eu-west-1\n", "none of clusters"),
            ("- a\n- b\n", "not a YAML mapping"),
            ("kind: Pod\napiVersion: v1\n", "kind is \"Pod\""),
            ("kind: Config\napiVersion: v2\n", "apiVersion is \"v2\""),
            ("kind: Config\nclusters: {a: b}\n", "clusters is not a list"),
            ("clusters: [\n", "not YAML"),
        ] {
            let refused = Kubeconfig::parse(text).unwrap_err();
            assert!(refused.contains(reason), "{text:?}: {refused}");
        }
    }

    #[test]
    fn the_default_path_is_kubeconfigs_first_else_the_home_directorys() {
        let home = Path::new("/home/dev");
        assert_eq!(
            default_kubeconfig_path(Some(OsStr::new("/a/one:/b/two")), Some(home)),
            Some(PathBuf::from("/a/one"))
        );
        assert_eq!(
            default_kubeconfig_path(Some(OsStr::new("")), Some(home)),
            Some(PathBuf::from("/home/dev/.kube/config"))
        );
        assert_eq!(
            default_kubeconfig_path(None, Some(home)),
            Some(PathBuf::from("/home/dev/.kube/config"))
        );
        assert_eq!(default_kubeconfig_path(None, None), None);
    }

    #[test]
    fn a_cluster_is_live_only_with_every_part() {
        let outputs = Outputs {
            cluster_name: Some("prd-eks".into()),
            cluster_endpoint: Some(cluster().endpoint),
            cluster_arn: Some(cluster().arn),
            certificate_authority_data: Some(cluster().certificate_authority_data),
            ..Outputs::default()
        };
        assert_eq!(
            LiveCluster::from_outputs(&outputs, "eu-west-1"),
            Some(cluster())
        );
        let no_ca = Outputs {
            certificate_authority_data: None,
            ..outputs
        };
        assert_eq!(LiveCluster::from_outputs(&no_ca, "eu-west-1"), None);
    }

    #[test]
    fn the_file_is_written_whole_with_mode_0600_in_a_new_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new").join("config");
        write_atomically(&path, "kind: Config\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "kind: Config\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("config")]);
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_kubeconfig_is_written_behind_its_link() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dotfiles-config");
        std::fs::write(&file, "kind: Config\n").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        write_atomically(&behind_links(&link), "kind: Config\nclusters: []\n").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "kind: Config\nclusters: []\n"
        );
        let missing = dir.path().join("new-config");
        assert_eq!(behind_links(&missing), missing);
    }
}
