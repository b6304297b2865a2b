//! Loading `config/ikz-hub.toml` and `config/connectors.d/*.toml`.
//!
//! Every mistake is collected, not just the first: an administrator fixing a config sees them all at once, each
//! with file, line:column, connector id and field. Values may use `${VAR}` and `${VAR:-default}` (secrets stay in
//! the environment). Unknown keys are errors, so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ikz_connectors::fetch::FetchSettings;
use ikz_connectors::model::{ids::is_url_safe, Ags, Partner, PartnerKind};
use ikz_connectors::settings::parse_settings;
use ikz_connectors::{registry, Connector, ConnectorSpec, FieldError, Source};
use ikz_store::Guards;
use serde::Deserialize;

use crate::schedule::Schedule;

/// One mistake in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub connector: Option<String>,
    /// Dotted path of the field: "schedule", "columns.school_number", "partners[1].ags".
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if let Some(connector) = &self.connector {
            write!(f, "connector `{connector}`: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// All mistakes found.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration has {} error(s):", self.0.len())?;
        for error in &self.0 {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Listen address; `IKZ_BIND` or `serve --bind` override it.
    pub bind: String,
    /// Origins (`https://schulen.example.de`) whose browser pages may call the API (CORS); none: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Longest request URL (path and query) in bytes; longer is a 414.
    pub max_url_bytes: usize,
    /// Largest request body in bytes; larger is a 413.
    pub max_body_bytes: usize,
    /// A request whose handler has not answered after this long gets a 503 ("60s").
    pub request_timeout: String,
    /// A client that has not sent its whole request head after this long is cut off with a 408 ("5s").
    pub client_request_timeout: String,
    /// Memory for rendered read responses, kept until the data changes (MB); 0 turns the cache off.
    pub response_cache_mb: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            bind: "127.0.0.1:8080".into(),
            cors_origins: Vec::new(),
            max_url_bytes: ikz_api::limits::DEFAULT_MAX_URL_BYTES,
            max_body_bytes: ikz_api::limits::DEFAULT_MAX_BODY_BYTES,
            request_timeout: "60s".into(),
            client_request_timeout: "5s".into(),
            response_cache_mb: ikz_api::response_cache::DEFAULT_MEGABYTES,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite://data/ikz-hub.db` (relative to the working directory), a plain path, or `postgres://…`.
    /// `IKZ_DATABASE_URL` overrides it.
    pub url: String,
    pub pool_size: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings { url: "sqlite://data/ikz-hub.db".into(), pool_size: 8 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SchedulerSettings {
    /// IANA time zone the connectors' schedules are read in.
    pub timezone: String,
    /// Run the scheduler in `serve`.
    pub enabled: bool,
    /// Default for connectors: attempts of a scheduled run, the first included (a failed one is retried).
    pub max_attempts: u32,
    /// Wait before the first retry ("5m"); doubled for each further one.
    pub retry_backoff: String,
    /// Default for connectors: a connector whose last success is older than this is stale ("36h"); unset: never.
    pub stale_after: Option<String>,
    /// On SIGTERM/SIGINT, how long running imports may go on before they are rolled back and recorded as failed.
    pub shutdown_grace: String,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            timezone: "Europe/Berlin".into(),
            enabled: true,
            max_attempts: 3,
            retry_backoff: "5m".into(),
            stale_after: None,
            shutdown_grace: "30s".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ImportSettings {
    /// Default for connectors: fail a run when more than this share (0–1) of its records is rejected.
    pub max_reject_ratio: f64,
    /// Default for connectors: fail a complete run that would tombstone more than this share (0–1).
    pub max_tombstone_share: f64,
    /// Default for connectors: import at start-up when the connector has never succeeded.
    pub run_on_start: bool,
}

impl Default for ImportSettings {
    fn default() -> Self {
        let guards = Guards::default();
        ImportSettings {
            max_reject_ratio: guards.max_reject_ratio,
            max_tombstone_share: guards.max_tombstone_share,
            run_on_start: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct TokenSettings {
    /// A name for logs (the token itself is never logged).
    pub name: String,
    pub token: String,
    /// "read", "admin".
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// Anyone may read without a token.
    pub public_read: bool,
    pub tokens: Vec<TokenSettings>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings { public_read: true, tokens: Vec::new() }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct PartnerSettings {
    slug: String,
    name: String,
    kind: PartnerKind,
    ags: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
struct MainFile {
    server: ServerSettings,
    database: DatabaseSettings,
    scheduler: SchedulerSettings,
    import: ImportSettings,
    http: FetchSettings,
    auth: AuthSettings,
    partners: Vec<PartnerSettings>,
    /// Folder of the connector files, relative to the main file.
    connectors_dir: String,
}

impl Default for MainFile {
    fn default() -> Self {
        MainFile {
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            scheduler: SchedulerSettings::default(),
            import: ImportSettings::default(),
            http: FetchSettings::default(),
            auth: AuthSettings::default(),
            partners: Vec::new(),
            connectors_dir: "connectors.d".into(),
        }
    }
}

/// The keys every connector file has; everything else belongs to its kind.
#[derive(Debug, Deserialize)]
struct CommonSettings {
    id: Option<String>,
    kind: Option<String>,
    partner: Option<String>,
    source: Option<String>,
    schedule: Option<String>,
    description: Option<String>,
    enabled: Option<bool>,
    run_on_start: Option<bool>,
    max_reject_ratio: Option<f64>,
    max_tombstone_share: Option<f64>,
    stale_after: Option<String>,
    max_attempts: Option<u32>,
}

const COMMON_KEYS: [&str; 12] = [
    "id",
    "kind",
    "partner",
    "source",
    "schedule",
    "description",
    "enabled",
    "run_on_start",
    "max_reject_ratio",
    "max_tombstone_share",
    "stale_after",
    "max_attempts",
];

/// A configured connector, built and ready to run.
pub struct ConnectorConfig {
    pub id: String,
    pub kind: String,
    pub partner: String,
    pub source: Source,
    pub description: Option<String>,
    pub schedule: Option<Schedule>,
    pub enabled: bool,
    pub run_on_start: bool,
    pub guards: Guards,
    /// Stale when the last success is older than this: (as written, parsed).
    pub stale_after: Option<(String, std::time::Duration)>,
    /// Attempts of a scheduled run, the first included.
    pub max_attempts: u32,
    /// The file it was read from.
    pub file: PathBuf,
    pub connector: Box<dyn Connector>,
}

impl fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorConfig").field("id", &self.id).field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// The whole configuration, valid.
#[derive(Debug)]
pub struct Config {
    pub file: PathBuf,
    pub base_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub scheduler: SchedulerSettings,
    pub timezone: chrono_tz::Tz,
    /// `scheduler.retry_backoff`, parsed.
    pub retry_backoff: std::time::Duration,
    /// `scheduler.shutdown_grace`, parsed.
    pub shutdown_grace: std::time::Duration,
    /// The API's limits from `[server]`, parsed.
    pub limits: ikz_api::limits::Limits,
    /// `server.client_request_timeout`, parsed.
    pub client_request_timeout: std::time::Duration,
    pub import: ImportSettings,
    pub http: FetchSettings,
    pub auth: AuthSettings,
    pub partners: Vec<Partner>,
    pub connectors: Vec<ConnectorConfig>,
}

impl Config {
    pub fn connector(&self, id: &str) -> Option<&ConnectorConfig> {
        self.connectors.iter().find(|connector| connector.id == id)
    }

    pub fn partner(&self, slug: &str) -> Option<&Partner> {
        self.partners.iter().find(|partner| partner.slug == slug)
    }
}

/// One parsed file: its text (for positions), its span tree, and its values after `${VAR}` interpolation.
struct ParsedFile {
    path: PathBuf,
    text: String,
    document: toml_edit::Document<String>,
    table: toml::Table,
}

struct Collector {
    errors: Vec<ConfigError>,
}

impl Collector {
    fn at_start(&mut self, file: &Path, connector: Option<&str>, field: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: file.to_owned(),
            line: 1,
            column: 1,
            connector: connector.map(str::to_owned),
            field: field.to_owned(),
            message: message.into(),
        });
    }

    fn at_field(&mut self, parsed: &ParsedFile, prefix: &str, connector: Option<&str>, error: FieldError) {
        let field = join_path(prefix, &error.field);
        let (line, column) = locate(parsed, &field);
        self.errors.push(ConfigError {
            file: parsed.path.clone(),
            line,
            column,
            connector: connector.map(str::to_owned),
            field,
            message: error.message,
        });
    }
}

fn join_path(prefix: &str, field: &str) -> String {
    match (prefix.is_empty(), field.is_empty()) {
        (true, _) => field.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if field.starts_with('[') => format!("{prefix}{field}"),
        (false, false) => format!("{prefix}.{field}"),
    }
}

/// Loads and validates the configuration at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let mut collector = Collector { errors: Vec::new() };
    let main = match read_file(path, &mut collector) {
        Some(parsed) => parsed,
        None => return Err(ConfigErrors(collector.errors)),
    };
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let settings: MainFile = match parse_settings(&main.table) {
        Ok(settings) => settings,
        Err(errors) => {
            for error in errors {
                collector.at_field(&main, "", None, error);
            }
            MainFile::default()
        }
    };
    let timezone = match settings.scheduler.timezone.parse::<chrono_tz::Tz>() {
        Ok(timezone) => timezone,
        Err(_) => {
            let error =
                FieldError::new("scheduler.timezone", format!("unknown time zone `{}`", settings.scheduler.timezone));
            collector.at_field(&main, "", None, error);
            chrono_tz::Europe::Berlin
        }
    };
    let mut duration_setting = |field: &str, text: &str, fallback: u64| match parse_duration(text) {
        Ok(duration) => duration,
        Err(message) => {
            collector.at_field(&main, "", None, FieldError::new(field, message));
            std::time::Duration::from_secs(fallback)
        }
    };
    let retry_backoff = duration_setting("scheduler.retry_backoff", &settings.scheduler.retry_backoff, 300);
    let shutdown_grace = duration_setting("scheduler.shutdown_grace", &settings.scheduler.shutdown_grace, 30);
    let request_timeout = duration_setting("server.request_timeout", &settings.server.request_timeout, 60);
    let client_request_timeout =
        duration_setting("server.client_request_timeout", &settings.server.client_request_timeout, 5);
    check_server(&settings.server, &main, &mut collector);
    let limits = ikz_api::limits::Limits {
        max_url_bytes: settings.server.max_url_bytes,
        max_body_bytes: settings.server.max_body_bytes,
        request_timeout,
    };
    let default_stale_after = match settings.scheduler.stale_after.as_deref().map(|text| (text, parse_duration(text))) {
        Some((text, Ok(duration))) => Some((text.to_owned(), duration)),
        Some((_, Err(message))) => {
            collector.at_field(&main, "", None, FieldError::new("scheduler.stale_after", message));
            None
        }
        None => None,
    };
    if settings.scheduler.max_attempts == 0 {
        let error = FieldError::new("scheduler.max_attempts", "must be at least 1 (the first attempt counts)");
        collector.at_field(&main, "", None, error);
    }
    let defaults = ConnectorDefaults {
        import: settings.import.clone(),
        stale_after: default_stale_after,
        max_attempts: settings.scheduler.max_attempts.max(1),
    };
    check_share(&mut collector, &main, "", None, "import.max_reject_ratio", settings.import.max_reject_ratio);
    check_share(&mut collector, &main, "", None, "import.max_tombstone_share", settings.import.max_tombstone_share);
    for (index, token) in settings.auth.tokens.iter().enumerate() {
        if token.token.trim().is_empty() {
            let error = FieldError::new(
                format!("auth.tokens[{index}].token"),
                "is empty (set it from the environment: token = \"${IKZ_ADMIN_TOKEN}\")",
            );
            collector.at_field(&main, "", None, error);
        }
        for scope in token.scopes.iter().filter(|scope| !matches!(scope.as_str(), "read" | "admin")) {
            let error = FieldError::new(
                format!("auth.tokens[{index}].scopes"),
                format!("unknown scope `{scope}` (read, admin)"),
            );
            collector.at_field(&main, "", None, error);
        }
    }
    let partners = validate_partners(&settings.partners, &main, &mut collector);

    let connectors_dir = base_dir.join(&settings.connectors_dir);
    let mut connectors: Vec<ConnectorConfig> = Vec::new();
    let mut seen_ids: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in connector_files(&connectors_dir, &main, &mut collector) {
        let Some(parsed) = read_file(&file, &mut collector) else { continue };
        if let Some(connector) = load_connector(&parsed, &base_dir, &partners, &defaults, &mut collector) {
            if let Some(first) = seen_ids.get(&connector.id) {
                let error = FieldError::new("id", format!("the id is already used in {}", first.display()));
                collector.at_field(&parsed, "", Some(&connector.id), error);
                continue;
            }
            seen_ids.insert(connector.id.clone(), file.clone());
            connectors.push(connector);
        }
    }

    if !collector.errors.is_empty() {
        return Err(ConfigErrors(collector.errors));
    }
    Ok(Config {
        file: path.to_owned(),
        base_dir,
        server: settings.server,
        database: settings.database,
        scheduler: settings.scheduler,
        timezone,
        retry_backoff,
        shutdown_grace,
        limits,
        client_request_timeout,
        import: settings.import,
        http: settings.http,
        auth: settings.auth,
        partners,
        connectors,
    })
}

/// `[server]`: CORS origins as browsers send them, and limits within what actix can enforce.
fn check_server(server: &ServerSettings, main: &ParsedFile, collector: &mut Collector) {
    for (index, origin) in server.cors_origins.iter().enumerate() {
        if let Err(message) = ikz_api::cors::check_origin(origin) {
            collector.at_field(main, "", None, FieldError::new(format!("server.cors_origins[{index}]"), message));
        }
    }
    let url_range = 256..=ikz_api::limits::MAX_URL_BYTES_LIMIT;
    if !url_range.contains(&server.max_url_bytes) {
        let message = format!(
            "must be from {} to {} bytes (actix reads longer request heads no further)",
            url_range.start(),
            url_range.end()
        );
        collector.at_field(main, "", None, FieldError::new("server.max_url_bytes", message));
    }
    if server.max_body_bytes == 0 {
        let message = "must be at least 1 byte (`{}` is the smallest body a POST sends)";
        collector.at_field(main, "", None, FieldError::new("server.max_body_bytes", message));
    }
}

/// What connectors inherit from the main file.
struct ConnectorDefaults {
    import: ImportSettings,
    stale_after: Option<(String, std::time::Duration)>,
    max_attempts: u32,
}

/// Parses "36h", "90m", "1h30m", "2d", "45s" (units d, h, m, s; at least one second).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let invalid =
        || format!("invalid duration `{text}` (a number with a unit d, h, m or s, e.g. \"36h\" or \"1h30m\")");
    let mut total: u64 = 0;
    let mut digits = String::new();
    for character in text.trim().chars() {
        if character.is_ascii_digit() {
            digits.push(character);
            continue;
        }
        let unit = match character {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(invalid()),
        };
        let number: u64 = digits.parse().map_err(|_| invalid())?;
        total = number.checked_mul(unit).and_then(|part| total.checked_add(part)).ok_or_else(invalid)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(invalid());
    }
    Ok(std::time::Duration::from_secs(total))
}

fn check_share(
    collector: &mut Collector,
    parsed: &ParsedFile,
    prefix: &str,
    connector: Option<&str>,
    field: &str,
    value: f64,
) {
    if !(0.0..=1.0).contains(&value) {
        let error = FieldError::new(field, format!("must be between 0 and 1 (a share), not {value}"));
        collector.at_field(parsed, prefix, connector, error);
    }
}

fn validate_partners(settings: &[PartnerSettings], main: &ParsedFile, collector: &mut Collector) -> Vec<Partner> {
    let mut partners: Vec<Partner> = Vec::new();
    for (index, partner) in settings.iter().enumerate() {
        let field = |name: &str| format!("partners[{index}].{name}");
        if !is_url_safe(&partner.slug) {
            let error = FieldError::new(field("slug"), "must be URL-safe: letters, digits, `-`, `_`, `.`");
            collector.at_field(main, "", None, error);
        }
        if partners.iter().any(|other| other.slug == partner.slug) {
            collector.at_field(
                main,
                "",
                None,
                FieldError::new(field("slug"), format!("`{}` is used twice", partner.slug)),
            );
        }
        let ags = match partner.ags.as_deref().map(Ags::parse) {
            Some(Ok(ags)) => Some(ags),
            Some(Err(message)) => {
                collector.at_field(main, "", None, FieldError::new(field("ags"), message));
                None
            }
            None => None,
        };
        partners.push(Partner {
            slug: partner.slug.clone(),
            name: partner.name.clone(),
            kind: partner.kind,
            ags,
            aliases: partner.aliases.clone(),
        });
    }
    partners
}

fn connector_files(dir: &Path, main: &ParsedFile, collector: &mut Collector) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => {
            let message = format!("cannot read the connector folder {}: {error}", dir.display());
            collector.at_field(main, "", None, FieldError::new("connectors_dir", message));
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    files.sort();
    files
}

fn load_connector(
    parsed: &ParsedFile,
    base_dir: &Path,
    partners: &[Partner],
    defaults: &ConnectorDefaults,
    collector: &mut Collector,
) -> Option<ConnectorConfig> {
    let mut common_table = toml::Table::new();
    let mut kind_table = parsed.table.clone();
    for key in COMMON_KEYS {
        if let Some(value) = kind_table.remove(key) {
            common_table.insert(key.to_owned(), value);
        }
    }
    let common: CommonSettings = match parse_settings(&common_table) {
        Ok(common) => common,
        Err(errors) => {
            let connector = common_table.get("id").and_then(toml::Value::as_str);
            for error in errors {
                collector.at_field(parsed, "", connector, error);
            }
            return None;
        }
    };
    let errors_before = collector.errors.len();
    let id = match common.id {
        Some(id) if is_url_safe(&id) => id,
        Some(id) => {
            collector.at_field(
                parsed,
                "",
                Some(&id),
                FieldError::new("id", "must be URL-safe: letters, digits, `-`, `_`, `.`"),
            );
            id
        }
        None => {
            collector.at_start(&parsed.path, None, "id", "the connector has no `id`");
            parsed.path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default()
        }
    };
    let connector = Some(id.as_str());
    let kind = match common.kind.as_deref().map(|kind| (kind, registry::find(kind))) {
        Some((_, Some(kind))) => Some(kind),
        Some((name, None)) => {
            let message = format!("unknown kind `{name}` (known kinds: {})", registry::kind_names());
            collector.at_field(parsed, "", connector, FieldError::new("kind", message));
            None
        }
        None => {
            collector.at_start(&parsed.path, connector, "kind", "the connector has no `kind`");
            None
        }
    };
    let partner = match common.partner.as_deref() {
        Some(slug) => match partners.iter().find(|partner| partner.slug == slug) {
            Some(partner) => Some(partner),
            None => {
                let known: Vec<&str> = partners.iter().map(|partner| partner.slug.as_str()).collect();
                let message = format!("unknown partner `{slug}` (configured partners: {})", known.join(", "));
                collector.at_field(parsed, "", connector, FieldError::new("partner", message));
                None
            }
        },
        None => {
            collector.at_start(&parsed.path, connector, "partner", "the connector has no `partner`");
            None
        }
    };
    let source = match common.source.as_deref().map(|text| Source::parse(text, base_dir)) {
        Some(Ok(source)) => Some(source),
        Some(Err(message)) => {
            collector.at_field(parsed, "", connector, FieldError::new("source", message));
            None
        }
        None => {
            collector.at_start(&parsed.path, connector, "source", "the connector has no `source`");
            None
        }
    };
    let schedule = match common.schedule.as_deref().map(Schedule::parse) {
        Some(Ok(schedule)) => Some(schedule),
        Some(Err(message)) => {
            collector.at_field(parsed, "", connector, FieldError::new("schedule", message));
            None
        }
        None => None,
    };
    let guards = Guards {
        max_reject_ratio: common.max_reject_ratio.unwrap_or(defaults.import.max_reject_ratio),
        max_tombstone_share: common.max_tombstone_share.unwrap_or(defaults.import.max_tombstone_share),
    };
    let stale_after = match common.stale_after.as_deref().map(|text| (text, parse_duration(text))) {
        Some((text, Ok(duration))) => Some((text.to_owned(), duration)),
        Some((_, Err(message))) => {
            collector.at_field(parsed, "", connector, FieldError::new("stale_after", message));
            None
        }
        None => defaults.stale_after.clone(),
    };
    if common.max_attempts == Some(0) {
        let error = FieldError::new("max_attempts", "must be at least 1 (the first attempt counts)");
        collector.at_field(parsed, "", connector, error);
    }
    check_share(collector, parsed, "", connector, "max_reject_ratio", guards.max_reject_ratio);
    check_share(collector, parsed, "", connector, "max_tombstone_share", guards.max_tombstone_share);

    let (Some(kind), Some(partner), Some(source)) = (kind, partner, source) else { return None };
    let spec = ConnectorSpec { id: &id, partner, source: source.clone(), settings: &kind_table, base_dir };
    let built = match (kind.build)(&spec) {
        Ok(built) => built,
        Err(errors) => {
            for error in errors {
                collector.at_field(parsed, "", connector, error);
            }
            return None;
        }
    };
    if collector.errors.len() > errors_before {
        return None;
    }
    Some(ConnectorConfig {
        kind: kind.name.to_owned(),
        partner: partner.slug.clone(),
        source,
        description: common.description,
        schedule,
        enabled: common.enabled.unwrap_or(true),
        run_on_start: common.run_on_start.unwrap_or(defaults.import.run_on_start),
        guards,
        stale_after,
        max_attempts: common.max_attempts.unwrap_or(defaults.max_attempts).max(1),
        file: parsed.path.clone(),
        connector: built,
        id,
    })
}

fn read_file(path: &Path, collector: &mut Collector) -> Option<ParsedFile> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            collector.at_start(path, None, "", format!("cannot read the file: {error}"));
            return None;
        }
    };
    let document = match toml_edit::Document::parse(text.clone()) {
        Ok(document) => document,
        Err(error) => {
            let (line, column) = error.span().map(|span| line_column(&text, span.start)).unwrap_or((1, 1));
            collector.errors.push(ConfigError {
                file: path.to_owned(),
                line,
                column,
                connector: None,
                field: String::new(),
                message: format!("invalid TOML: {}", error.message()),
            });
            return None;
        }
    };
    let mut table: toml::Table = match toml::from_str(&text) {
        Ok(table) => table,
        Err(error) => {
            collector.at_start(path, None, "", format!("invalid TOML: {}", error.message()));
            return None;
        }
    };
    let mut parsed = ParsedFile { path: path.to_owned(), text, document, table: toml::Table::new() };
    let mut interpolation_errors = Vec::new();
    interpolate_table(&mut table, "", &mut interpolation_errors);
    parsed.table = table;
    for error in interpolation_errors {
        collector.at_field(&parsed, "", None, error);
    }
    Some(parsed)
}

fn interpolate_table(table: &mut toml::Table, prefix: &str, errors: &mut Vec<FieldError>) {
    for (key, value) in table.iter_mut() {
        interpolate_value(value, &join_path(prefix, key), errors);
    }
}

fn interpolate_value(value: &mut toml::Value, path: &str, errors: &mut Vec<FieldError>) {
    match value {
        toml::Value::String(text) => match interpolate(text, |name| std::env::var(name).ok()) {
            Ok(expanded) => *text = expanded,
            Err(message) => errors.push(FieldError::new(path, message)),
        },
        toml::Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                interpolate_value(item, &format!("{path}[{index}]"), errors);
            }
        }
        toml::Value::Table(table) => interpolate_table(table, path, errors),
        _ => {}
    }
}

/// Expands `${VAR}` and `${VAR:-default}`; `$$` is a literal `$`.
pub fn interpolate(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else { return Err(format!("unclosed `${{` in `{text}`")) };
            let expression = &body[..end];
            let (name, default) = match expression.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (expression, None),
            };
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("`${{{expression}}}` is not a variable name"));
            }
            match (lookup(name).filter(|value| !value.is_empty() || default.is_none()), default) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => {
                    return Err(format!("environment variable `{name}` is not set (use ${{{name}:-default}})"))
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|line| line.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

/// The position of `field` in a file: its key if present, else the deepest enclosing key that is.
fn locate(parsed: &ParsedFile, field: &str) -> (usize, usize) {
    let mut table: Option<&dyn toml_edit::TableLike> = Some(parsed.document.as_table());
    let mut item: Option<&toml_edit::Item> = None;
    let mut position = None;
    for segment in split_path(field) {
        match segment {
            Segment::Key(key) => {
                let Some(current) = table.or_else(|| item.and_then(toml_edit::Item::as_table_like)) else { break };
                let Some((key, value)) = current.get_key_value(&key) else { break };
                if let Some(span) = key.span() {
                    position = Some(span.start);
                }
                item = Some(value);
                table = None;
            }
            Segment::Index(index) => match item {
                Some(toml_edit::Item::ArrayOfTables(array)) => {
                    let Some(entry) = array.get(index) else { break };
                    if let Some(span) = entry.span() {
                        position = Some(span.start);
                    }
                    table = Some(entry);
                    item = None;
                }
                Some(toml_edit::Item::Value(toml_edit::Value::Array(array))) => {
                    if let Some(span) = array.get(index).and_then(toml_edit::Value::span) {
                        position = Some(span.start);
                    }
                    break;
                }
                _ => break,
            },
        }
    }
    position.map(|offset| line_column(&parsed.text, offset)).unwrap_or((1, 1))
}

enum Segment {
    Key(String),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|part| !part.is_empty()) {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                segments.push(Segment::Key(rest[..open].to_owned()));
            }
            rest = &rest[open..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(close) = stripped.find(']') else { break };
                if let Ok(index) = stripped[..close].parse() {
                    segments.push(Segment::Index(index));
                }
                rest = &stripped[close + 1..];
            }
        } else if let Ok(index) = rest.parse::<usize>() {
            segments.push(Segment::Index(index));
        } else {
            segments.push(Segment::Key(rest.to_owned()));
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("36h"), Ok(std::time::Duration::from_secs(36 * 3600)));
        assert_eq!(parse_duration("1h30m"), Ok(std::time::Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(std::time::Duration::from_secs(172_800)));
        assert_eq!(parse_duration("45s"), Ok(std::time::Duration::from_secs(45)));
        for bad in ["", "0s", "36", "h", "3x", "-1h", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    /// The scheduler keys are checked with every other mistake, each with its position.
    #[test]
    fn scheduler_keys_report_every_mistake() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("connectors.d")).expect("connectors.d");
        std::fs::write(
            dir.path().join("ikz-hub.toml"),
            "[scheduler]\nretry_backoff = \"soon\"\nmax_attempts = 0\nstale_after = \"36h\"\n\n[[auth.tokens]]\nname = \"ops\"\ntoken = \"\"\nscopes = [\"admin\"]\n\n[[partners]]\nslug = \"gifhorn\"\nname = \"Landkreis Gifhorn\"\nkind = \"landkreis\"\n",
        )
        .expect("main");
        std::fs::write(
            dir.path().join("connectors.d/a.toml"),
            "id = \"a\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"a.jsonl\"\nstale_after = \"bald\"\nmax_attempts = 0\n",
        )
        .expect("connector");
        let errors = load(&dir.path().join("ikz-hub.toml")).expect_err("invalid").to_string();
        for expected in [
            "ikz-hub.toml:2:1: field `scheduler.retry_backoff`: invalid duration `soon`",
            "ikz-hub.toml:3:1: field `scheduler.max_attempts`: must be at least 1",
            "field `auth.tokens[0].token`: is empty",
            "a.toml:5:1: connector `a`: field `stale_after`: invalid duration `bald`",
            "a.toml:6:1: connector `a`: field `max_attempts`: must be at least 1",
        ] {
            assert!(errors.contains(expected), "missing {expected:?} in:\n{errors}");
        }
    }
}
