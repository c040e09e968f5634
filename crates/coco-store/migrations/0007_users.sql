-- Product users: a contract entity (`users`, loaded after contacts), the people who log
-- in to the customer's product and the department or team they work in. Usage rows
-- refer to them by (account_id, user_id); the reference is not checked on ingest.
--
-- The contract table takes the name `users`, which 0004_auth gave to the people who
-- may use `coco serve`: that table becomes `auth_users` (rows, keys and the role check
-- are kept; sessions, API tokens and the audit log refer to its user_id, unchanged).

ALTER TABLE users RENAME TO auth_users;

-- Product users (the people who log in — not necessarily contacts) and the department or team they work in.
CREATE TABLE users (
    account_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    email VARCHAR,
    department VARCHAR,
    title VARCHAR,
    role VARCHAR,
    created_on DATE,
    deactivated_on DATE,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL
);
CREATE TABLE users_history (
    account_id VARCHAR,
    user_id VARCHAR,
    email VARCHAR,
    department VARCHAR,
    title VARCHAR,
    role VARCHAR,
    created_on DATE,
    deactivated_on DATE,
    _load_id BIGINT NOT NULL,
    _line BIGINT NOT NULL,
    _superseded_by_load BIGINT NOT NULL
);
