//! The `tsunagu` command: serve, demo, migrate, check, backup, calendar.
//! Every failure ends with one line (Japanese / English) and exit code 2.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use tsunagu::config::{self, DatabaseUrl};
use tsunagu::db::{backend, migrations};
use tsunagu::error::StartupError;
use tsunagu::state::Settings;
use tsunagu_core::calendar;
use tsunagu_core::clock::{Clock, SystemClock};

#[derive(Parser)]
#[command(
    name = "tsunagu",
    version,
    about = "つなぐ — 医療的ケア児と家族を支える地域連携プラットフォーム"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct DatabaseArgs {
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB
    #[arg(long, env = "TSUNAGU_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Largest number of pooled connections (default: 8 for SQLite; for PostgreSQL two per
    /// CPU core, 4 to 16)
    #[arg(long, env = "TSUNAGU_MAX_CONNECTIONS")]
    max_connections: Option<u32>,
}

#[derive(Args)]
struct WebArgs {
    /// The public URL (https://… makes cookies Secure and is an accepted Origin)
    #[arg(long, env = "TSUNAGU_PUBLIC_URL")]
    public_url: Option<String>,
    /// Minutes without activity before a session ends
    #[arg(long, env = "TSUNAGU_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=1440))]
    session_idle_minutes: i64,
    /// Hours after sign-in when a session ends regardless of activity
    #[arg(long, env = "TSUNAGU_SESSION_ABSOLUTE_HOURS", default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=72))]
    session_absolute_hours: i64,
    /// Hours a break-glass grant stays open
    #[arg(long, env = "TSUNAGU_BREAK_GLASS_HOURS", default_value_t = 3, value_parser = clap::value_parser!(i64).range(1..=24))]
    break_glass_hours: i64,
    /// Days after which a directory entry its facility has not confirmed is shown as
    /// possibly out of date
    #[arg(long, env = "TSUNAGU_DIRECTORY_STALE_DAYS", default_value_t = 90, value_parser = clap::value_parser!(i64).range(7..=730))]
    directory_stale_days: i64,
    /// Bearer token for /metrics (Prometheus: `authorization: credentials`); without it
    /// /metrics is off. At least 32 characters.
    #[arg(long, env = "TSUNAGU_METRICS_TOKEN", value_parser = metrics_token)]
    metrics_token: Option<String>,
}

fn metrics_token(text: &str) -> Result<String, String> {
    if text.chars().count() >= 32 && text.chars().all(|c| c.is_ascii_graphic()) {
        Ok(text.to_string())
    } else {
        Err("メトリクスのトークンは32文字以上の英数字・記号にしてください / metrics token: 32 or more printable ASCII characters".into())
    }
}

impl WebArgs {
    fn settings(self, demo: bool) -> Settings {
        Settings {
            demo,
            public_url: self.public_url,
            session_idle_minutes: self.session_idle_minutes,
            session_absolute_hours: self.session_absolute_hours,
            break_glass_hours: self.break_glass_hours,
            directory_stale_days: self.directory_stale_days,
            metrics_token: self.metrics_token,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (runs pending migrations first)
    Serve {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long, env = "TSUNAGU_LISTEN", default_value = config::DEFAULT_LISTEN)]
        listen: String,
        #[command(flatten)]
        web: WebArgs,
        /// Append the audit chain's head to this file (outside the database) while serving,
        /// so `audit verify --checkpoints` can tell a rewritten chain; keep it on another disk
        #[arg(long, env = "TSUNAGU_AUDIT_CHECKPOINT_FILE")]
        audit_checkpoint_file: Option<PathBuf>,
        /// Minutes between two checkpoints (written only when the chain has grown)
        #[arg(long, env = "TSUNAGU_AUDIT_CHECKPOINT_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=1440))]
        audit_checkpoint_minutes: u64,
    },
    /// Create a fresh demo database (./data/demo.db) with synthetic content and serve it
    Demo {
        #[arg(long, env = "TSUNAGU_LISTEN", default_value = config::DEFAULT_LISTEN)]
        listen: String,
        #[command(flatten)]
        web: WebArgs,
        /// demo: a few dozen children; national: about 20,000 children over all
        /// municipalities and a year of audit entries (for bench/)
        #[arg(long, value_enum, default_value_t = DemoScale::Demo)]
        scale: DemoScale,
        /// Seed this EMPTY, freshly created database instead of recreating ./data/demo.db
        /// (sqlite://PATH or postgres://…; deliberately not read from the environment)
        #[arg(long)]
        database_url: Option<String>,
        /// Seed, write the accounts file and exit without serving
        #[arg(long)]
        seed_only: bool,
    },
    /// The audit trail
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Apply pending migrations and load reference data
    Migrate {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Integrity check, migration status, backend and version
    Check {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Online backup of a SQLite database to a new file (PostgreSQL: use pg_dump)
    Backup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The file to write; must not exist yet
        #[arg(long, env = "TSUNAGU_BACKUP_TO")]
        to: PathBuf,
    },
    /// Calendar tools
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DemoScale {
    Demo,
    National,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and name the first altered, missing or re-linked entry
    Verify {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Also check that the chain still holds every head recorded in this checkpoint file
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Append the chain's head (time, sequence number, hash) to a file outside the database
    /// and print it, e.g. for a paper log
    Checkpoint {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The checkpoint file (created if missing; one line per checkpoint)
        #[arg(long, env = "TSUNAGU_AUDIT_CHECKPOINT_FILE")]
        to: PathBuf,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Print every 祝日 (incl. 振替休日 and 国民の休日) as `date,name` lines, 1955-2099
    Holidays {
        #[arg(long, env = "TSUNAGU_FROM")]
        from: i32,
        #[arg(long, env = "TSUNAGU_TO")]
        to: i32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Calendar {
            command: CalendarCommand::Holidays { from, to },
        } => print_holidays(from, to),
        command => run_async(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("エラー: {err}");
            ExitCode::from(2)
        }
    }
}

fn print_holidays(from: i32, to: i32) -> Result<(), StartupError> {
    use std::io::Write;
    let holidays = calendar::holidays_between(from, to)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for h in holidays {
        // A closed pipe (e.g. `| head`) is not an error worth reporting.
        if writeln!(out, "{},{}", h.date.format("%Y-%m-%d"), h.name).is_err() {
            return Ok(());
        }
    }
    let _ = out.flush();
    Ok(())
}

fn run_async(command: Command) -> Result<(), StartupError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| StartupError::Io(err.to_string()))?;
    runtime.block_on(run(command))
}

async fn run(command: Command) -> Result<(), StartupError> {
    tsunagu::telemetry::init_logging();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match command {
        Command::Serve {
            db,
            listen,
            web,
            audit_checkpoint_file,
            audit_checkpoint_minutes,
        } => {
            let addr = config::parse_listen(&listen)?;
            let url = DatabaseUrl::parse(&db.database_url)?;
            let listener = tsunagu::bind(addr).await?;
            let database = tsunagu::open_database(&url, db.max_connections).await?;
            tracing::info!(%addr, database = %url.redacted(), "tsunagu listening");
            let settings = web.settings(false);
            tsunagu::spawn_maintenance(database.clone(), clock.clone(), &settings);
            if let Some(file) = audit_checkpoint_file {
                tsunagu::spawn_audit_checkpoints(
                    database.clone(),
                    clock.clone(),
                    file,
                    std::time::Duration::from_secs(audit_checkpoint_minutes * 60),
                );
            }
            tsunagu::serve(listener, tsunagu::app(database, clock, settings)).await
        }
        Command::Demo {
            listen,
            web,
            scale,
            database_url,
            seed_only,
        } => {
            let addr = config::parse_listen(&listen)?;
            let listener = if seed_only {
                None
            } else {
                Some(tsunagu::bind(addr).await?)
            };
            let url = match &database_url {
                Some(url) => DatabaseUrl::parse(url)?,
                None => {
                    let path = PathBuf::from(tsunagu::demo::DEMO_DATABASE);
                    tsunagu::demo::remove_previous(&path)?;
                    DatabaseUrl::parse(&format!("sqlite://{}", path.display()))?
                }
            };
            let database = tsunagu::open_database(&url, None).await?;
            let scale = match scale {
                DemoScale::Demo => tsunagu::demo::Scale::Demo,
                DemoScale::National => tsunagu::demo::Scale::National,
            };
            let started = std::time::Instant::now();
            let (accounts, report) =
                tsunagu::demo::seed_scale(&database, clock.now(), scale).await?;
            if let Some(r) = report {
                println!(
                    "全国規模のデータ / national set ({:.1} s): 児童 {} 人（人工呼吸器 {} 人）、{} 市区町村、同意 {} 件、組織 {}、アカウント {}、監査ログ {} 件、資源 {} 件（空き状況の報告 {} 件）",
                    started.elapsed().as_secs_f64(),
                    r.children,
                    r.ventilator,
                    r.municipalities_with_children,
                    r.consents,
                    r.organisations,
                    r.accounts,
                    r.audit_entries,
                    r.services,
                    r.vacancy_reports
                );
            }
            tsunagu::demo::write_accounts_file(&accounts)?;
            println!(
                "デモ用アカウント / demo accounts（{}）:",
                tsunagu::demo::DEMO_ACCOUNTS_FILE
            );
            for a in &accounts {
                let totp = a.totp_secret.as_deref().unwrap_or("-");
                println!(
                    "  {:<20} {:<18} {:<22} TOTP {}  {}",
                    a.login, a.password, a.role, totp, a.organisation
                );
            }
            let Some(listener) = listener else {
                println!(
                    "デモデータを作成しました / demo data written: {}",
                    url.redacted()
                );
                database.close().await;
                return Ok(());
            };
            println!("つなぐ デモ環境を起動しました / tsunagu demo is running: http://{addr}/");
            if database_url.is_none() {
                println!(
                    "データベース / database: {}（起動のたびに作り直します / recreated on every run）",
                    tsunagu::demo::DEMO_DATABASE
                );
            } else {
                println!("データベース / database: {}", url.redacted());
            }
            println!("終了するには Ctrl+C / press Ctrl+C to stop");
            tsunagu::serve(listener, tsunagu::app(database, clock, web.settings(true))).await
        }
        Command::Migrate { db } => {
            let url = DatabaseUrl::parse(&db.database_url)?;
            let database = tsunagu::open_database(&url, db.max_connections).await?;
            println!(
                "マイグレーション完了 / migrations applied: {}",
                url.redacted()
            );
            database.close().await;
            Ok(())
        }
        Command::Check { db } => check(&db).await,
        Command::Audit {
            command: AuditCommand::Verify { db, checkpoints },
        } => {
            let recorded = match &checkpoints {
                None => None,
                Some(file) => {
                    let text = std::fs::read_to_string(file).map_err(|e| {
                        StartupError::Io(format!(
                            "チェックポイントのファイルを読めません / cannot read {}: {e}",
                            file.display()
                        ))
                    })?;
                    Some(
                        tsunagu::audit::parse_checkpoints(&text)
                            .map_err(|e| StartupError::Input(e, "bad checkpoint file"))?,
                    )
                }
            };
            let url = DatabaseUrl::parse(&db.database_url)?;
            let database = tsunagu::db::Db::connect(&url, 2).await?;
            let outcome = tsunagu::audit::verify_command(&database).await;
            let held = match (&outcome, &recorded) {
                (Ok(_), Some(recorded)) => {
                    Some(tsunagu::audit::check_checkpoints(&database, recorded).await?)
                }
                _ => None,
            };
            database.close().await;
            match (outcome, held) {
                (Ok(message), None) => {
                    println!("{message}");
                    Ok(())
                }
                (Ok(message), Some(Ok(n))) => {
                    println!("{message}");
                    println!(
                        "チェックポイント {n} 件と一致しました / the chain holds all {n} recorded checkpoints"
                    );
                    Ok(())
                }
                (Ok(_), Some(Err(problem))) | (Err(problem), _) => {
                    Err(StartupError::Input(problem, "audit chain broken"))
                }
            }
        }
        Command::Audit {
            command: AuditCommand::Checkpoint { db, to },
        } => {
            let url = DatabaseUrl::parse(&db.database_url)?;
            let database = tsunagu::db::Db::connect(&url, 2).await?;
            let written = tsunagu::audit::write_checkpoint(&database, &to, clock.now()).await;
            database.close().await;
            let line = written.map_err(StartupError::Io)?;
            println!("{line}");
            Ok(())
        }
        Command::Backup { db, to } => {
            let url = DatabaseUrl::parse(&db.database_url)?;
            let database = tsunagu::db::Db::connect(&url, 2).await?;
            match backend::backup_to(&database, &to).await? {
                backend::BackupOutcome::Written => {
                    println!("バックアップを作成しました / backup written: {}", to.display());
                    Ok(())
                }
                backend::BackupOutcome::UsePgDump => Err(StartupError::Input(
                    "PostgreSQL のバックアップには pg_dump を使ってください（例: pg_dump -Fc -f tsunagu.dump DBNAME）".into(),
                    "on PostgreSQL, use pg_dump",
                )),
            }
        }
        Command::Calendar { .. } => Ok(()),
    }
}

async fn check(db: &DatabaseArgs) -> Result<(), StartupError> {
    let url = DatabaseUrl::parse(&db.database_url)?;
    let database = tsunagu::db::Db::connect(&url, 2).await?;
    println!("データベース / database: {}", url.redacted());
    println!(
        "バックエンド / backend: {}",
        backend::server_version(&database).await?
    );
    if let Some(collation) = backend::collation(&database).await? {
        println!("照合順序 / collation: {collation}");
        if let Some(advice) = backend::collation_advice(&collation) {
            println!("注意 / note: {advice}");
        }
    }
    let status = migrations::status(&database).await?;
    let pending = status.iter().filter(|m| !m.applied).count();
    for m in &status {
        let mark = if m.applied {
            "適用済 applied"
        } else {
            "未適用 pending"
        };
        println!(
            "マイグレーション / migration {} {}: {mark}",
            m.version, m.description
        );
    }
    let problems = if pending == status.len() {
        Vec::new()
    } else {
        backend::integrity_problems(&database).await?
    };
    database.close().await;
    if !problems.is_empty() {
        return Err(StartupError::Input(
            format!(
                "整合性チェックで問題が見つかりました: {}",
                problems.join("; ")
            ),
            "integrity check failed",
        ));
    }
    if pending > 0 {
        return Err(StartupError::Input(
            format!(
                "未適用のマイグレーションが {pending} 件あります。tsunagu migrate を実行してください"
            ),
            "pending migrations",
        ));
    }
    println!("整合性 / integrity: ok");
    Ok(())
}
