//! `coco serve` (with its scheduler: the daily run and the outbox drain), `coco users`,
//! `coco tokens`. User and token changes go through
//! `coco_server::users` (the same code as the server's), so the CLI holds no auth logic.

use std::net::SocketAddr;

use anyhow::Result;
use clap::{Args, Subcommand};
use coco_core::Role;

use crate::GlobalArgs;
use crate::commands::{metrics, open_store, user_error};
use crate::output::{self, Format};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Store connections serving requests at once.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Mark cookies `Secure`: set this when users reach COCO over HTTPS (a TLS proxy).
    #[arg(long)]
    pub behind_tls: bool,
}

/// The actor recorded in the audit log for CLI changes.
fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

pub fn serve(global: &GlobalArgs, args: &ServeArgs) -> Result<()> {
    let config = metrics::load_config(global)?;
    // Alert rules, playbooks and notifications: a file that does not validate stops the
    // server here, with the file and the problem named.
    let actions = crate::commands::actions::load_actions(global, &config)?;
    let store = open_store(global)?;
    if store.list_users()?.is_empty() {
        return Err(user_error(
            "no users yet: nobody could log in",
            Some("create an admin first: `coco users add admin --role admin`"),
        ));
    }
    let options = coco_server::ServeOptions {
        data_dir: global.data_dir.clone(),
        connections: args.connections,
        secure_cookies: args.behind_tls,
    };
    let drafting = crate::commands::drafts::load_drafting(global)?;
    let state = coco_server::state_with_configs(store, config, actions, drafting, &options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // The daily run and the outbox drain (`[schedule]` in notifications.toml).
        let _scheduler = coco_server::scheduler::start(&state);
        coco_server::serve(state, args.bind, |address| {
            println!("COCO is serving http://{address}/ (Ctrl-C stops it)");
        })
        .await
    })
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user; prints a one-time password they must change at first login.
    Add(AddUserArgs),
    /// Every user with role and status.
    List,
    /// Stop a user logging in (sessions end, tokens stop working).
    Disable { username: String },
    /// Let a disabled user log in again.
    Enable { username: String },
    /// Change a user's role.
    SetRole { username: String, role: Role },
    /// Give a user a new one-time password.
    ResetPassword { username: String },
}

#[derive(Args)]
pub struct AddUserArgs {
    pub username: String,
    /// admin, leader, csm or viewer.
    #[arg(long, default_value = "viewer")]
    pub role: Role,
    #[arg(long)]
    pub name: Option<String>,
    /// The CSM id (csms.csm_id) whose accounts are this user's "My book".
    #[arg(long)]
    pub csm: Option<String>,
}

pub fn users(global: &GlobalArgs, command: &UsersCommand) -> Result<()> {
    let store = open_store(global)?;
    let actor = cli_actor();
    let changed = match command {
        UsersCommand::Add(args) => {
            let created = coco_server::users::add_user(
                &store,
                &coco_server::users::NewUserRequest {
                    username: &args.username,
                    display_name: args.name.as_deref(),
                    role: args.role,
                    csm_id: args.csm.as_deref(),
                },
                &actor,
            )
            .map_err(app_error)?;
            print_password(&created);
            return Ok(());
        }
        UsersCommand::List => return output::print_rows(&store.list_users()?, global.format),
        UsersCommand::Disable { username } => {
            coco_server::users::set_disabled(&store, username, true, &actor)
        }
        UsersCommand::Enable { username } => {
            coco_server::users::set_disabled(&store, username, false, &actor)
        }
        UsersCommand::SetRole { username, role } => {
            coco_server::users::set_role(&store, username, *role, &actor)
        }
        UsersCommand::ResetPassword { username } => {
            let created =
                coco_server::users::reset_password(&store, username, &actor).map_err(app_error)?;
            print_password(&created);
            return Ok(());
        }
    }
    .map_err(app_error)?;
    output::print_rows(&[changed], global.format)
}

fn print_password(created: &coco_server::users::CreatedUser) {
    println!(
        "user `{}` ({}) — one-time password: {}\n(shown once; they must choose their own at first login)",
        created.user.username, created.user.role, created.one_time_password
    );
}

/// Server errors the CLI shows as user errors (they name what to fix).
fn app_error(error: coco_server::error::AppError) -> anyhow::Error {
    if error.status.is_server_error() {
        anyhow::anyhow!(error.message)
    } else {
        user_error(error.message, None)
    }
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Create an API token for a user; prints the secret once.
    Create {
        /// The user the token acts for (with their role).
        #[arg(long)]
        user: String,
        /// What the token is for, e.g. "bi-export".
        #[arg(long)]
        name: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// Tokens (never their secrets), newest first.
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by id (see `coco tokens list`).
    Revoke { token_id: i64 },
}

pub fn tokens(global: &GlobalArgs, command: &TokensCommand) -> Result<()> {
    let store = open_store(global)?;
    let actor = cli_actor();
    match command {
        TokensCommand::Create {
            user,
            name,
            expires_days,
        } => {
            let expires = expires_days.map(|days| {
                chrono::Utc::now().naive_utc() + chrono::Duration::days(i64::from(days))
            });
            let (token, secret) =
                coco_server::users::create_token(&store, user, name, expires, &actor)
                    .map_err(app_error)?;
            if global.format == Format::Table {
                println!(
                    "token {} `{}` for {} — secret (shown once):\n{secret}\nUse it as `Authorization: Bearer {secret}`.",
                    token.token_id, token.name, token.username
                );
                Ok(())
            } else {
                output::print_object(
                    &serde_json::json!({"token": token, "secret": secret}),
                    global.format,
                )
            }
        }
        TokensCommand::List { user } => {
            output::print_rows(&store.list_tokens(user.as_deref())?, global.format)
        }
        TokensCommand::Revoke { token_id } => {
            let token =
                coco_server::users::revoke_token(&store, *token_id, &actor).map_err(app_error)?;
            output::print_rows(&[token], global.format)
        }
    }
}
