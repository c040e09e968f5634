-- Who may use `coco serve`, their sessions and API tokens, and the audit log of every
-- write. Secrets are never stored: passwords as argon2id PHC strings, session cookies
-- and API tokens as SHA-256 hex digests of the random value handed out once.

CREATE TABLE users (
    user_id BIGINT PRIMARY KEY,
    username VARCHAR NOT NULL UNIQUE,       -- login name, lower case
    display_name VARCHAR NOT NULL,
    role VARCHAR NOT NULL CHECK (role IN ('admin', 'leader', 'csm', 'viewer')),
    csm_id VARCHAR,                         -- the CSM (csms.csm_id) whose book is "my book"
    password_hash VARCHAR NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT false,
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    session_hash VARCHAR PRIMARY KEY,
    user_id BIGINT NOT NULL,
    csrf_token VARCHAR NOT NULL,            -- per session; every state-changing form echoes it
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ip VARCHAR
);

CREATE TABLE api_tokens (
    token_id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL,                -- a token acts with its user's role
    name VARCHAR NOT NULL,
    token_prefix VARCHAR NOT NULL,          -- the first characters, to recognise a token in lists
    token_hash VARCHAR NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE audit_log (
    audit_id BIGINT PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,                 -- a username, "token:<name>" or "cli:<os user>"
    action VARCHAR NOT NULL,                -- e.g. user.add, login.failure, ingest.upload
    target VARCHAR,
    detail VARCHAR,                         -- JSON
    ip VARCHAR
);
