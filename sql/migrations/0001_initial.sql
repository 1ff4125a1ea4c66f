-- =====================================================================
-- postern data model -- MariaDB 10.11, InnoDB, utf8mb4
--
-- This is the file admins read.  It is applied to an EMPTY database,
-- with the mariadb command-line client (it uses DELIMITER for the
-- triggers), either directly:
--     mariadb postern < sql/schema.sql
-- or through the migration runner, which applies the migrations one by
-- one (sql/migrations/0001_initial.sql, the initial schema, then every
-- later one) and records each in schema_version:
--     sql/migrate [mariadb client options...] postern
-- sql/schema.sql is generated (sql/gen-schema) as this first migration
-- followed by every later one, so it is longer than 0001_initial.sql;
-- both ways give the same database (tests/integration/sql.sh compares
-- them on MariaDB).  Use sql/migrate for an existing database.
--
-- Conventions (see docs/data-model.md for every table and column):
--   * Domain names, local parts, volumes, selectors and group/rule names
--     are stored lower-case; CHECK constraints refuse anything else.
--     Addresses are ASCII (IDN domains in their xn-- form).
--   * Every table an admin edits has an `active` flag (where it makes
--     sense) and AFTER INSERT/UPDATE/DELETE triggers that bump its row in
--     `change_counter`; the daemons poll that table and drop their caches
--     within a second.  State tables (greylist_triplets, greylist_clients,
--     ratelimit_keys, ratelimit_events, vacation_responses) have no such
--     triggers.
--   * Foreign keys to domains(name) are RESTRICT on update and delete:
--     a domain that still has mailboxes, aliases, keys ... cannot be
--     renamed or deleted by accident (a rename would silently move every
--     derived maildir path; MariaDB also forbids cascading into columns
--     used by stored generated columns and CHECK constraints).
--   * State tables store times as BIGINT Unix seconds (UTC, no time
--     zone ambiguity between hosts); config tables use TIMESTAMP.
--   * The server must run in strict SQL mode (the MariaDB default,
--     STRICT_TRANS_TABLES) so unknown ENUM values, negative numbers in
--     UNSIGNED columns and over-long strings are errors, not warnings.
-- =====================================================================

SET NAMES utf8mb4;

-- ---------------------------------------------------------------------
-- Bookkeeping
-- ---------------------------------------------------------------------

CREATE TABLE schema_version (
  version    INT PRIMARY KEY COMMENT 'number of the migration file sql/migrations/NNNN_name.sql',
  name       VARCHAR(200) COMMENT 'name part of the migration file',
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP COMMENT 'when sql/migrate (or schema.sql) applied it'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Applied schema migrations; written by sql/migrate, never by hand';

CREATE TABLE change_counter (
  tbl        VARCHAR(64) PRIMARY KEY COMMENT 'name of a configuration table',
  generation BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'incremented by triggers on every INSERT/UPDATE/DELETE of that table',
  changed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'time of the last change'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Cache invalidation: daemons poll SELECT tbl, generation FROM change_counter and reload a table whose generation moved';

-- ---------------------------------------------------------------------
-- Routing: domains, mailboxes, aliases, transports, relay hosts, send-as
-- ---------------------------------------------------------------------

CREATE TABLE domains (
  name                VARCHAR(253) NOT NULL PRIMARY KEY
                      COMMENT 'the domain, lower-case, IDN in xn-- form',
  kind                ENUM('local','alias','relay','legacy') NOT NULL
                      COMMENT 'local: mailboxes here; alias: every address maps to alias_target; relay: accepted and passed on to transport; legacy: whole domain still on the old platform',
  alias_target        VARCHAR(253) NULL
                      COMMENT 'kind=alias only: the domain whose mailboxes/aliases this domain mirrors (user@alias -> user@target)',
  transport           VARCHAR(255) NULL
                      COMMENT 'Postfix transport:nexthop for the whole domain, e.g. relay:[mx.kunde3.example]:25 (required for relay domains)',
  legacy_transport    VARCHAR(255) NULL
                      COMMENT 'where this domain''s mailboxes with migration_state=legacy go; NULL = default legacy row in transports',
  relayhost           VARCHAR(255) NULL
                      COMMENT 'sender-dependent relayhost [host]:port for senders in this domain; relayhosts rows win over it',
  default_quota_bytes BIGINT UNSIGNED NULL
                      COMMENT 'quota of mailboxes whose quota_bytes is NULL; NULL = postern-lda default, 0 = unlimited',
  dkim_selector       VARCHAR(63) NULL
                      COMMENT 'sign only with dkim_keys of this selector; NULL = every active key of the domain',
  description         VARCHAR(255) NULL COMMENT 'free text for admins',
  active              TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = treated as unknown by every daemon',
  created_at          TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at          TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  KEY domains_alias_target (alias_target),
  CONSTRAINT fk_domains_alias_target FOREIGN KEY (alias_target) REFERENCES domains (name),
  CONSTRAINT domains_name_lower    CHECK (name = LOWER(name) COLLATE utf8mb4_bin),
  CONSTRAINT domains_name_syntax   CHECK (name REGEXP '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT domains_alias_target  CHECK ((kind = 'alias') = (alias_target IS NOT NULL)),
  CONSTRAINT domains_alias_not_self CHECK (alias_target IS NULL OR alias_target <> name),
  CONSTRAINT domains_alias_no_route CHECK (kind <> 'alias' OR (transport IS NULL AND legacy_transport IS NULL AND default_quota_bytes IS NULL)),
  CONSTRAINT domains_relay_transport CHECK (kind <> 'relay' OR transport IS NOT NULL),
  CONSTRAINT domains_transport_syntax CHECK (transport IS NULL OR transport REGEXP '^[a-z0-9][a-z0-9._-]*:[^[:space:][:cntrl:]]*$'),
  CONSTRAINT domains_legacy_transport_syntax CHECK (legacy_transport IS NULL OR legacy_transport REGEXP '^[a-z0-9][a-z0-9._-]*:[^[:space:][:cntrl:]]*$'),
  -- [host]:port or host:port; [[] and []] are a literal [ and ]
  CONSTRAINT domains_relayhost_syntax CHECK (relayhost IS NULL OR relayhost REGEXP '^([[][a-z0-9.:-]+[]]|[a-z0-9.-]+)(:[0-9]{1,5})?$'),
  CONSTRAINT domains_dkim_selector_syntax CHECK (dkim_selector IS NULL OR (dkim_selector = LOWER(dkim_selector) COLLATE utf8mb4_bin AND dkim_selector REGEXP '^[a-z0-9]([a-z0-9-]*[a-z0-9])?([.][a-z0-9]([a-z0-9-]*[a-z0-9])?)*$')),
  CONSTRAINT domains_active_flag CHECK (active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Every domain postern hosts or relays: local, alias of another domain, relay, legacy';

CREATE TABLE mailboxes (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  local_part      VARCHAR(64) NOT NULL COMMENT 'part before the @, lower-case, no + extension needed (user+ext is resolved by postern-maps)',
  domain          VARCHAR(253) NOT NULL COMMENT 'a local (or legacy/relay) domain; never an alias domain',
  address         VARCHAR(320) AS (CONCAT(local_part, '@', domain)) STORED COMMENT 'derived: local_part@domain',
  display_name    VARCHAR(200) NULL COMMENT 'full name, free text',
  password_hash   VARCHAR(255) NULL COMMENT 'crypt(3) or {SCHEME} hash for SASL/ManageSieve; NULL = authentication elsewhere (LDAP)',
  quota_bytes     BIGINT UNSIGNED NULL COMMENT 'NULL = domains.default_quota_bytes, 0 = unlimited',
  volume          VARCHAR(32) NOT NULL DEFAULT 'vol01' COMMENT 'storage volume (first directory below the mail root)',
  maildir         VARCHAR(400) AS (CONCAT(volume, '/',
                      LEFT(SHA2(CONCAT(local_part, '@', domain), 256), 2), '/',
                      LEFT(SHA2(CONCAT(local_part, '@', domain), 256), 4), '/',
                      local_part, '@', domain, '/')) STORED
                  COMMENT 'derived, never typed: volume/xx/xxxx/address/ relative to the mail root (xxxx = first hex digits of SHA-256 of the address)',
  migration_state ENUM('legacy','migrated') NOT NULL DEFAULT 'migrated' COMMENT 'legacy: mail goes to the legacy store (see transports); migrated: delivered here',
  transport       VARCHAR(255) NULL COMMENT 'per-mailbox transport:nexthop override (wins over the migration switch)',
  relayhost       VARCHAR(255) NULL COMMENT 'sender-dependent relayhost [host]:port for mail sent from this address',
  active          TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = mailbox treated as unknown (mail refused), data kept',
  created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY mailboxes_address (address),
  UNIQUE KEY mailboxes_domain_local_part (domain, local_part),
  KEY mailboxes_volume (volume),
  CONSTRAINT fk_mailboxes_domain FOREIGN KEY (domain) REFERENCES domains (name),
  CONSTRAINT mailboxes_local_part_lower  CHECK (local_part = LOWER(local_part) COLLATE utf8mb4_bin),
  -- RFC 5322 dot-atom without '/' (it would be a path separator in maildir)
  CONSTRAINT mailboxes_local_part_syntax CHECK (local_part REGEXP '^[a-z0-9!#$%&''*+=?^_`{|}~-]+([.][a-z0-9!#$%&''*+=?^_`{|}~-]+)*$'),
  CONSTRAINT mailboxes_volume_syntax     CHECK (volume = LOWER(volume) COLLATE utf8mb4_bin AND volume REGEXP '^[a-z0-9_-]+$'),
  CONSTRAINT mailboxes_password_hash     CHECK (password_hash IS NULL OR password_hash REGEXP '^([{][a-z0-9._-]+[}][^[:space:]]+|[$][a-z0-9-]+[$][^[:space:]]+)$'),
  CONSTRAINT mailboxes_transport_syntax  CHECK (transport IS NULL OR transport REGEXP '^[a-z0-9][a-z0-9._-]*:[^[:space:][:cntrl:]]*$'),
  CONSTRAINT mailboxes_relayhost_syntax  CHECK (relayhost IS NULL OR relayhost REGEXP '^([[][a-z0-9.:-]+[]]|[a-z0-9.-]+)(:[0-9]{1,5})?$'),
  CONSTRAINT mailboxes_active_flag       CHECK (active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Mailboxes: one row per address that is delivered to a Maildir (or still to the legacy store)';

CREATE TABLE aliases (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  domain     VARCHAR(253) NOT NULL COMMENT 'domain of the alias address (not an alias domain: those map as a whole)',
  local_part VARCHAR(64) NULL COMMENT 'local part of the alias address; NULL = catch-all for the domain (never swallows existing mailboxes or aliases)',
  target     VARCHAR(320) NOT NULL COMMENT 'one destination address (local or external); several targets = several rows',
  keep_copy  TINYINT(1) NOT NULL DEFAULT 0 COMMENT '1 = if the source is also a mailbox, deliver to that mailbox too (forward with copy)',
  active     TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = row ignored',
  source     VARCHAR(320) AS (CONCAT(IFNULL(local_part, ''), '@', domain)) STORED COMMENT 'derived: local_part@domain, or @domain for a catch-all',
  comment    VARCHAR(255) NULL COMMENT 'free text for admins',
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY aliases_domain_local_part_target (domain, local_part, target),
  UNIQUE KEY aliases_source_target (source, target) COMMENT 'lookup index; also refuses a duplicate catch-all row',
  KEY aliases_target (target(191)) COMMENT 'reverse lookup: which aliases point at an address (senderlogin map)',
  CONSTRAINT fk_aliases_domain FOREIGN KEY (domain) REFERENCES domains (name),
  CONSTRAINT aliases_local_part_lower  CHECK (local_part IS NULL OR local_part = LOWER(local_part) COLLATE utf8mb4_bin),
  CONSTRAINT aliases_local_part_syntax CHECK (local_part IS NULL OR local_part REGEXP '^[a-z0-9!#$%&''*+=?^_`{|}~-]+([.][a-z0-9!#$%&''*+=?^_`{|}~-]+)*$'),
  CONSTRAINT aliases_target_syntax     CHECK (target REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT aliases_target_domain_lower CHECK (SUBSTRING_INDEX(target, '@', -1) = LOWER(SUBSTRING_INDEX(target, '@', -1)) COLLATE utf8mb4_bin),
  CONSTRAINT aliases_target_not_self   CHECK (target <> source),
  CONSTRAINT aliases_catchall_no_copy  CHECK (local_part IS NOT NULL OR keep_copy = 0),
  CONSTRAINT aliases_keep_copy_flag    CHECK (keep_copy IN (0, 1)),
  CONSTRAINT aliases_active_flag       CHECK (active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Aliases, forwards and catch-alls; one row per (source, target)';

CREATE TABLE transports (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  match_type ENUM('address','domain','default') NOT NULL COMMENT 'what pattern is: a recipient address, a recipient domain, or nothing (default row)',
  pattern    VARCHAR(320) NOT NULL DEFAULT '' COMMENT 'address, domain (.domain = its subdomains), or empty for default',
  purpose    ENUM('delivery','legacy','local') NOT NULL DEFAULT 'delivery'
             COMMENT 'delivery: route for the address/domain (default row = smarthost for everything external); local: how mailboxes of local domains are delivered; legacy: where mailboxes with migration_state=legacy go',
  transport  VARCHAR(255) NOT NULL COMMENT 'Postfix transport:nexthop, e.g. relay:[smarthost.example]:587, postern-lda:, smtp:[legacy-store.example]:25',
  comment    VARCHAR(255) NULL COMMENT 'free text for admins',
  active     TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = row ignored',
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY transports_match (match_type, pattern, purpose),
  CONSTRAINT transports_default_pattern CHECK ((match_type = 'default') = (pattern = '')),
  CONSTRAINT transports_pattern_lower   CHECK (pattern = LOWER(pattern) COLLATE utf8mb4_bin),
  CONSTRAINT transports_domain_syntax   CHECK (match_type <> 'domain' OR pattern REGEXP '^[.]?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT transports_address_syntax  CHECK (match_type <> 'address' OR pattern REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT transports_address_purpose CHECK (match_type <> 'address' OR purpose = 'delivery'),
  CONSTRAINT transports_transport_syntax CHECK (transport REGEXP '^[a-z0-9][a-z0-9._-]*:[^[:space:][:cntrl:]]*$'),
  CONSTRAINT transports_active_flag     CHECK (active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Transport routing table (Postfix transport_maps through postern-maps): per address, per domain, defaults';

CREATE TABLE relayhosts (
  id             INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  match_type     ENUM('address','domain','default') NOT NULL COMMENT 'what pattern is: a sender address, a sender domain, or nothing (default row)',
  pattern        VARCHAR(320) NOT NULL DEFAULT '' COMMENT 'sender address, sender domain (.domain = its subdomains), or empty for default',
  nexthop        VARCHAR(255) NOT NULL COMMENT '[host]:port (no MX lookup) or host:port, as in Postfix relayhost',
  credential_ref VARCHAR(255) NULL COMMENT 'key of the entry in smtp_sasl_password_maps holding the login; never a password',
  comment        VARCHAR(255) NULL COMMENT 'free text for admins',
  active         TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = row ignored',
  created_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY relayhosts_match (match_type, pattern),
  CONSTRAINT relayhosts_default_pattern CHECK ((match_type = 'default') = (pattern = '')),
  CONSTRAINT relayhosts_pattern_lower   CHECK (pattern = LOWER(pattern) COLLATE utf8mb4_bin),
  CONSTRAINT relayhosts_domain_syntax   CHECK (match_type <> 'domain' OR pattern REGEXP '^[.]?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT relayhosts_address_syntax  CHECK (match_type <> 'address' OR pattern REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT relayhosts_nexthop_syntax  CHECK (nexthop REGEXP '^([[][a-z0-9.:-]+[]]|[a-z0-9.-]+)(:[0-9]{1,5})?$'),
  CONSTRAINT relayhosts_credential_ref  CHECK (credential_ref IS NULL OR (credential_ref <> '' AND credential_ref NOT REGEXP '[[:space:][:cntrl:]]')),
  CONSTRAINT relayhosts_active_flag     CHECK (active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Sender-dependent relay hosts (sender_dependent_relayhost_maps through postern-maps)';

CREATE TABLE sender_grants (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  login      VARCHAR(320) NOT NULL COMMENT 'SASL login name (normally a mailbox address), lower-case',
  match_type ENUM('address','domain') NOT NULL COMMENT 'the login may send as one address, or as any address of a domain',
  pattern    VARCHAR(320) NOT NULL COMMENT 'the sender address or domain',
  comment    VARCHAR(255) NULL COMMENT 'free text for admins (why the grant exists)',
  active     TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = row ignored',
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY sender_grants_login_pattern (login, match_type, pattern),
  KEY sender_grants_pattern (match_type, pattern) COMMENT 'senderlogin map: who may use this sender',
  CONSTRAINT sender_grants_login_syntax   CHECK (login = LOWER(login) COLLATE utf8mb4_bin AND login REGEXP '^[^[:space:][:cntrl:]]+$'),
  CONSTRAINT sender_grants_pattern_lower  CHECK (pattern = LOWER(pattern) COLLATE utf8mb4_bin),
  CONSTRAINT sender_grants_domain_syntax  CHECK (match_type <> 'domain' OR pattern REGEXP '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT sender_grants_address_syntax CHECK (match_type <> 'address' OR pattern REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT sender_grants_active_flag    CHECK (active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Send-as grants: which SASL login may use which envelope sender (smtpd_sender_login_maps through postern-maps)';

CREATE TABLE dkim_keys (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  domain     VARCHAR(253) NOT NULL COMMENT 'signing domain (d=), the From domain of outgoing mail',
  selector   VARCHAR(63) NOT NULL COMMENT 'DKIM selector (s=); DNS record at selector._domainkey.domain',
  algorithm  ENUM('rsa-sha256','ed25519-sha256') NOT NULL DEFAULT 'rsa-sha256' COMMENT 'signature algorithm (a=); RSA keys at least 2048 bits',
  key_path   VARCHAR(400) NOT NULL COMMENT 'absolute path of the PEM private key file, readable by postern-milter, e.g. /etc/postern/dkim/DOMAIN/SELECTOR.key',
  comment    VARCHAR(255) NULL COMMENT 'free text for admins',
  active     TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = not used for signing (keep rows of retired keys for reference)',
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY dkim_keys_domain_selector_algorithm (domain, selector, algorithm),
  CONSTRAINT fk_dkim_keys_domain FOREIGN KEY (domain) REFERENCES domains (name),
  CONSTRAINT dkim_keys_selector_syntax CHECK (selector = LOWER(selector) COLLATE utf8mb4_bin AND selector REGEXP '^[a-z0-9]([a-z0-9-]*[a-z0-9])?([.][a-z0-9]([a-z0-9-]*[a-z0-9])?)*$'),
  CONSTRAINT dkim_keys_key_path_syntax CHECK (key_path REGEXP '^/[^[:space:][:cntrl:]]+$' AND key_path NOT REGEXP '(^|/)[.][.]?(/|$)' AND key_path NOT LIKE '%/'),
  CONSTRAINT dkim_keys_active_flag     CHECK (active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='DKIM signing keys for postern-milter: one row per domain, selector and algorithm';

-- ---------------------------------------------------------------------
-- Policy: groups and sender rules (postern-policyd), group send rights
-- (postern-milter)
-- ---------------------------------------------------------------------

CREATE TABLE policy_groups (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  name        VARCHAR(64) NOT NULL COMMENT 'short lower-case name, e.g. school-parents; used by nested members',
  description VARCHAR(255) NULL COMMENT 'free text for admins',
  created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY policy_groups_name (name),
  CONSTRAINT policy_groups_name_syntax CHECK (name = LOWER(name) COLLATE utf8mb4_bin AND name REGEXP '^[a-z0-9][a-z0-9._-]*$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Named sets of senders/recipients used by sender_rules, ratelimit_rules and group_send_allowed';

CREATE TABLE policy_group_members (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  group_id     INT UNSIGNED NOT NULL COMMENT 'the group this row belongs to',
  member_type  ENUM('address','domain','ldap_group','group') NOT NULL
               COMMENT 'address: one address; domain: every address of the domain (.domain = its subdomains); ldap_group: members of an LDAP group; group: members of another policy group',
  value        VARCHAR(320) NOT NULL
               COMMENT 'address | domain | LDAP group DN (or the group''s mail address) | name of another policy group',
  member_group VARCHAR(64) AS (IF(member_type = 'group', value, NULL)) STORED
               COMMENT 'derived; lets a foreign key check that a nested group exists',
  comment      VARCHAR(255) NULL COMMENT 'free text for admins',
  created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY policy_group_members_unique (group_id, member_type, value),
  KEY policy_group_members_value (member_type, value(191)) COMMENT 'reverse lookup: which groups contain this address/domain',
  KEY policy_group_members_member_group (member_group),
  CONSTRAINT fk_policy_group_members_group FOREIGN KEY (group_id) REFERENCES policy_groups (id) ON DELETE CASCADE,
  CONSTRAINT fk_policy_group_members_nested FOREIGN KEY (member_group) REFERENCES policy_groups (name),
  CONSTRAINT policy_group_members_address CHECK (member_type <> 'address' OR (value = LOWER(value) COLLATE utf8mb4_bin AND value REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')),
  CONSTRAINT policy_group_members_domain  CHECK (member_type <> 'domain' OR (value = LOWER(value) COLLATE utf8mb4_bin AND value REGEXP '^[.]?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')),
  CONSTRAINT policy_group_members_ldap    CHECK (member_type <> 'ldap_group' OR value REGEXP '^([^=[:cntrl:]]+=[^[:cntrl:]]+|[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+)$'),
  CONSTRAINT policy_group_members_group   CHECK (member_type <> 'group' OR (value = LOWER(value) COLLATE utf8mb4_bin AND value REGEXP '^[a-z0-9][a-z0-9._-]*$'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Members of policy_groups: addresses, domains, LDAP groups, nested policy groups';

CREATE TABLE sender_rules (
  id                 INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  priority           INT NOT NULL DEFAULT 100 COMMENT 'lower is evaluated first; ties broken by id; the first matching rule decides',
  name               VARCHAR(64) NOT NULL COMMENT 'short name, logged with every decision',
  sender_group_id    INT UNSIGNED NULL COMMENT 'rule matches senders in this group; NULL = any sender',
  recipient_group_id INT UNSIGNED NULL COMMENT 'rule matches recipients in this group; NULL = any recipient',
  action             ENUM('permit','reject','defer') NOT NULL COMMENT 'permit: stop evaluating sender rules, mail passes (other checks still run); reject: 550 5.7.1; defer: 450 4.7.1',
  require_auth       TINYINT(1) NOT NULL DEFAULT 0 COMMENT '1 = rule matches only if the client authenticated with a SASL login that owns the sender address',
  require_spf_pass   TINYINT(1) NOT NULL DEFAULT 0 COMMENT '1 = rule matches only if SPF for MAIL FROM is pass (both flags set: both required)',
  reject_text        VARCHAR(255) NULL COMMENT 'text after the status code for reject/defer; NULL = [policyd] default text',
  comment            VARCHAR(255) NULL COMMENT 'free text for admins',
  active             TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = rule ignored',
  created_at         TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at         TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY sender_rules_name (name),
  KEY sender_rules_priority (priority, id),
  CONSTRAINT fk_sender_rules_sender_group    FOREIGN KEY (sender_group_id) REFERENCES policy_groups (id),
  CONSTRAINT fk_sender_rules_recipient_group FOREIGN KEY (recipient_group_id) REFERENCES policy_groups (id),
  CONSTRAINT sender_rules_some_group  CHECK (sender_group_id IS NOT NULL OR recipient_group_id IS NOT NULL),
  CONSTRAINT sender_rules_name_syntax CHECK (name = LOWER(name) COLLATE utf8mb4_bin AND name REGEXP '^[a-z0-9][a-z0-9._-]*$'),
  CONSTRAINT sender_rules_text        CHECK (reject_text IS NULL OR (reject_text <> '' AND reject_text NOT REGEXP '[[:cntrl:]]')),
  CONSTRAINT sender_rules_flags       CHECK (require_auth IN (0, 1) AND require_spf_pass IN (0, 1) AND active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Closed-group rules for postern-policyd: which sender groups may reach which recipient groups';

CREATE TABLE group_send_rules (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  group_address VARCHAR(320) NOT NULL COMMENT 'mail address of the (LDAP) group, e.g. 9a@bns.school.example',
  may_send      ENUM('anyone','members','groups','authenticated') NOT NULL DEFAULT 'anyone'
                COMMENT 'anyone; members of the group itself; members of the policy groups in group_send_allowed; any authenticated client',
  require_auth  TINYINT(1) NOT NULL DEFAULT 1 COMMENT 'for members/groups: 1 = identify the sender by SASL login (unauthenticated senders refused); 0 = trust the envelope sender (spoofable)',
  reject_text   VARCHAR(255) NULL COMMENT 'text after 550 5.7.1; NULL = [milter] default text',
  description   VARCHAR(255) NULL COMMENT 'free text for admins',
  active        TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = row ignored (anyone may send)',
  created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY group_send_rules_address (group_address),
  CONSTRAINT group_send_rules_address_syntax CHECK (group_address = LOWER(group_address) COLLATE utf8mb4_bin AND group_address REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT group_send_rules_text  CHECK (reject_text IS NULL OR (reject_text <> '' AND reject_text NOT REGEXP '[[:cntrl:]]')),
  CONSTRAINT group_send_rules_flags CHECK (require_auth IN (0, 1) AND active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='postern-milter: who may send to a group address that is expanded from LDAP';

CREATE TABLE group_send_allowed (
  rule_id         INT UNSIGNED NOT NULL COMMENT 'the group_send_rules row (may_send = groups)',
  policy_group_id INT UNSIGNED NOT NULL COMMENT 'senders in this policy group may send to the group address',
  created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (rule_id, policy_group_id),
  KEY group_send_allowed_group (policy_group_id),
  CONSTRAINT fk_group_send_allowed_rule  FOREIGN KEY (rule_id) REFERENCES group_send_rules (id) ON DELETE CASCADE,
  CONSTRAINT fk_group_send_allowed_group FOREIGN KEY (policy_group_id) REFERENCES policy_groups (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Allowed sender groups of a group_send_rules row with may_send = groups';

-- ---------------------------------------------------------------------
-- Greylisting (postern-policyd)
-- ---------------------------------------------------------------------

CREATE TABLE greylist_settings (
  id                   INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  domain               VARCHAR(253) NULL COMMENT 'recipient domain these settings apply to; NULL = the default row (exactly one, all values set)',
  scope                VARCHAR(253) AS (IFNULL(domain, '')) STORED COMMENT 'derived; makes the default row unique',
  enabled              TINYINT(1) NULL COMMENT '0 = no greylisting for this recipient domain; NULL = inherit from the default row',
  delay_seconds        INT UNSIGNED NULL COMMENT 'a retry is accepted this long after first sight; NULL = inherit',
  retry_window_seconds INT UNSIGNED NULL COMMENT 'a retry must come within this time after first sight, else the triplet starts over; NULL = inherit',
  expiry_seconds       INT UNSIGNED NULL COMMENT 'passed triplets and auto-whitelisted clients are forgotten after this long without traffic; NULL = inherit',
  auto_whitelist_after INT UNSIGNED NULL COMMENT 'a client network that passed this many triplets is no longer greylisted; 0 = never; NULL = inherit',
  ipv4_prefix          TINYINT UNSIGNED NULL COMMENT 'IPv4 clients are grouped by this prefix length (24 = /24); NULL = inherit',
  ipv6_prefix          TINYINT UNSIGNED NULL COMMENT 'IPv6 clients are grouped by this prefix length (64 = /64); NULL = inherit',
  add_header           TINYINT(1) NULL COMMENT '1 = PREPEND X-Greylist: with the delay to mail that was delayed; NULL = inherit',
  spf_pool             TINYINT(1) NULL COMMENT '1 = clients authorised by the sender''s SPF count as one retrying client (spf:DOMAIN); NULL = inherit',
  created_at           TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at           TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY greylist_settings_scope (scope),
  CONSTRAINT fk_greylist_settings_domain FOREIGN KEY (domain) REFERENCES domains (name),
  CONSTRAINT greylist_settings_default_complete CHECK (domain IS NOT NULL OR (enabled IS NOT NULL AND delay_seconds IS NOT NULL
      AND retry_window_seconds IS NOT NULL AND expiry_seconds IS NOT NULL AND auto_whitelist_after IS NOT NULL
      AND ipv4_prefix IS NOT NULL AND ipv6_prefix IS NOT NULL AND add_header IS NOT NULL AND spf_pool IS NOT NULL)),
  CONSTRAINT greylist_settings_delay  CHECK (delay_seconds IS NULL OR delay_seconds <= 86400),
  CONSTRAINT greylist_settings_window CHECK (retry_window_seconds IS NULL OR (retry_window_seconds BETWEEN 60 AND 2592000
      AND (delay_seconds IS NULL OR retry_window_seconds > delay_seconds))),
  CONSTRAINT greylist_settings_expiry CHECK (expiry_seconds IS NULL OR (expiry_seconds BETWEEN 3600 AND 31536000
      AND (retry_window_seconds IS NULL OR expiry_seconds >= retry_window_seconds))),
  CONSTRAINT greylist_settings_prefix CHECK ((ipv4_prefix IS NULL OR ipv4_prefix BETWEEN 8 AND 32) AND (ipv6_prefix IS NULL OR ipv6_prefix BETWEEN 16 AND 128)),
  CONSTRAINT greylist_settings_flags  CHECK ((enabled IS NULL OR enabled IN (0, 1)) AND (add_header IS NULL OR add_header IN (0, 1)) AND (spf_pool IS NULL OR spf_pool IN (0, 1)))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Greylisting parameters: one default row (domain NULL) and optional per-recipient-domain rows whose NULL columns inherit';

CREATE TABLE greylist_whitelist (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  kind       ENUM('client_network','client_hostname','sender_domain','sender_address','recipient','recipient_domain') NOT NULL
             COMMENT 'what value is compared with',
  value      VARCHAR(320) NOT NULL
             COMMENT 'client_network: IP or CIDR; client_hostname/sender_domain/recipient_domain: name, .name = its subdomains too; sender_address/recipient: address',
  comment    VARCHAR(255) NULL COMMENT 'free text for admins (why it is whitelisted)',
  active     TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = row ignored',
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY greylist_whitelist_kind_value (kind, value),
  CONSTRAINT greylist_whitelist_lower CHECK (value = LOWER(value) COLLATE utf8mb4_bin),
  CONSTRAINT greylist_whitelist_network CHECK (kind <> 'client_network' OR (
      INET6_ATON(SUBSTRING_INDEX(value, '/', 1)) IS NOT NULL
      AND (value NOT LIKE '%/%' OR (SUBSTRING_INDEX(value, '/', -1) REGEXP '^[0-9]{1,3}$'
           AND CAST(SUBSTRING_INDEX(value, '/', -1) AS UNSIGNED) <= IF(value LIKE '%:%', 128, 32))))),
  CONSTRAINT greylist_whitelist_names CHECK (kind NOT IN ('client_hostname','sender_domain','recipient_domain')
      OR value REGEXP '^[.]?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT greylist_whitelist_addresses CHECK (kind NOT IN ('sender_address','recipient')
      OR value REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT greylist_whitelist_active_flag CHECK (active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Greylisting exceptions: clients, senders and recipients that are never greylisted';

CREATE TABLE greylist_triplets (
  triplet_hash BINARY(32) NOT NULL PRIMARY KEY
               COMMENT 'UNHEX(SHA2(CONCAT_WS('' '', client_net, sender, recipient), 256)); the lookup key',
  client_net   VARCHAR(255) NOT NULL COMMENT 'client network in CIDR form (192.0.2.0/24, 2001:db8:1:2::/64) or spf:DOMAIN for an SPF-authorised pool',
  sender       VARCHAR(320) NOT NULL DEFAULT '' COMMENT 'normalised envelope sender, lower-case; empty for the null sender <>',
  recipient    VARCHAR(320) NOT NULL DEFAULT '' COMMENT 'normalised envelope recipient, lower-case',
  first_seen   BIGINT UNSIGNED NOT NULL COMMENT 'Unix time of the first attempt',
  last_seen    BIGINT UNSIGNED NOT NULL COMMENT 'Unix time of the latest attempt (pruning: last_seen + expiry_seconds)',
  block_count  INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'attempts that were deferred',
  pass_count   INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'attempts that passed after the delay',
  passed_at    BIGINT UNSIGNED NULL COMMENT 'Unix time the triplet first passed; NULL = still greylisted',
  KEY greylist_triplets_last_seen (last_seen),
  KEY greylist_triplets_client_net (client_net(64))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-policyd): greylisting triplets shared by all MX hosts';

CREATE TABLE greylist_clients (
  client_net VARCHAR(255) NOT NULL PRIMARY KEY COMMENT 'client network in CIDR form or spf:DOMAIN, as in greylist_triplets',
  first_seen BIGINT UNSIGNED NOT NULL COMMENT 'Unix time of the first passed triplet',
  last_seen  BIGINT UNSIGNED NOT NULL COMMENT 'Unix time of the latest mail from this client',
  pass_count INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'triplets that passed greylisting; >= auto_whitelist_after means auto-whitelisted',
  KEY greylist_clients_last_seen (last_seen)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-policyd): auto-whitelisting of clients that retry properly';

-- ---------------------------------------------------------------------
-- Rate limits (postern-policyd)
-- ---------------------------------------------------------------------

CREATE TABLE ratelimit_rules (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  name        VARCHAR(64) NOT NULL COMMENT 'short name, logged with every decision',
  key_type    ENUM('sasl_login','sender','sender_domain','client_address','recipient') NOT NULL
              COMMENT 'what is counted separately: per SASL login, sender address, sender domain, (masked) client address, or recipient address',
  match_value VARCHAR(320) NULL COMMENT 'rule applies only to this key (client_address: an IP or CIDR network); NULL = every key of that type',
  group_id    INT UNSIGNED NULL COMMENT 'rule applies only to keys that are members of this policy group (e.g. students); NULL = no restriction',
  counts      ENUM('messages','recipients','bytes') NOT NULL DEFAULT 'messages' COMMENT 'what is counted (bytes at END-OF-MESSAGE)',
  action      ENUM('defer','reject','hold','warn') NOT NULL DEFAULT 'defer' COMMENT 'when over a limit: 450 4.7.1 with retry hint, 550 5.7.1, HOLD in the queue, or only log',
  text        VARCHAR(255) NULL COMMENT 'text of the reply; NULL = [policyd] default text',
  priority    INT NOT NULL DEFAULT 100 COMMENT 'all matching rules count; of several exceeded rules the lowest priority number decides the reply',
  ipv4_prefix TINYINT UNSIGNED NULL COMMENT 'client_address only: IPv4 clients are counted per this prefix; NULL = 32',
  ipv6_prefix TINYINT UNSIGNED NULL COMMENT 'client_address only: IPv6 clients are counted per this prefix; NULL = 64',
  comment     VARCHAR(255) NULL COMMENT 'free text for admins',
  active      TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 = rule ignored (its counters are pruned)',
  created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY ratelimit_rules_name (name),
  CONSTRAINT fk_ratelimit_rules_group FOREIGN KEY (group_id) REFERENCES policy_groups (id),
  CONSTRAINT ratelimit_rules_name_syntax CHECK (name = LOWER(name) COLLATE utf8mb4_bin AND name REGEXP '^[a-z0-9][a-z0-9._-]*$'),
  CONSTRAINT ratelimit_rules_match_lower CHECK (match_value IS NULL OR (match_value <> '' AND match_value = LOWER(match_value) COLLATE utf8mb4_bin)),
  CONSTRAINT ratelimit_rules_match_address CHECK (match_value IS NULL OR key_type NOT IN ('sender','recipient')
      OR match_value REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT ratelimit_rules_match_domain CHECK (match_value IS NULL OR key_type <> 'sender_domain'
      OR match_value REGEXP '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT ratelimit_rules_match_login CHECK (match_value IS NULL OR key_type <> 'sasl_login' OR match_value NOT REGEXP '[[:space:][:cntrl:]]'),
  CONSTRAINT ratelimit_rules_match_network CHECK (match_value IS NULL OR key_type <> 'client_address' OR (
      INET6_ATON(SUBSTRING_INDEX(match_value, '/', 1)) IS NOT NULL
      AND (match_value NOT LIKE '%/%' OR (SUBSTRING_INDEX(match_value, '/', -1) REGEXP '^[0-9]{1,3}$'
           AND CAST(SUBSTRING_INDEX(match_value, '/', -1) AS UNSIGNED) <= IF(match_value LIKE '%:%', 128, 32))))),
  CONSTRAINT ratelimit_rules_prefix CHECK ((ipv4_prefix IS NULL AND ipv6_prefix IS NULL) OR (key_type = 'client_address'
      AND (ipv4_prefix IS NULL OR ipv4_prefix BETWEEN 8 AND 32) AND (ipv6_prefix IS NULL OR ipv6_prefix BETWEEN 16 AND 128))),
  CONSTRAINT ratelimit_rules_group_keys CHECK (group_id IS NULL OR key_type <> 'client_address'),
  CONSTRAINT ratelimit_rules_text CHECK (text IS NULL OR (text <> '' AND text NOT REGEXP '[[:cntrl:]]')),
  CONSTRAINT ratelimit_rules_active_flag CHECK (active IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Rate-limit rules: what is counted per which key, and what happens over the limit; limits in ratelimit_windows';

CREATE TABLE ratelimit_windows (
  rule_id        INT UNSIGNED NOT NULL COMMENT 'the rule',
  window_seconds INT UNSIGNED NOT NULL COMMENT 'length of the sliding window (3600 = any 60 minutes)',
  max_count      BIGINT UNSIGNED NOT NULL COMMENT 'at most this many messages/recipients/bytes per key within the window',
  created_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (rule_id, window_seconds),
  CONSTRAINT fk_ratelimit_windows_rule FOREIGN KEY (rule_id) REFERENCES ratelimit_rules (id) ON DELETE CASCADE,
  CONSTRAINT ratelimit_windows_length CHECK (window_seconds BETWEEN 1 AND 2678400)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Limits of a rate-limit rule, one row per window (e.g. 100 per 3600 s and 300 per 86400 s)';

CREATE TABLE ratelimit_overrides (
  rule_id        INT UNSIGNED NOT NULL COMMENT 'the rule',
  key_value      VARCHAR(320) NOT NULL COMMENT 'the key as policyd computes it: login, address, domain or masked client network address',
  window_seconds INT UNSIGNED NOT NULL COMMENT 'which window of the rule is overridden (must exist in ratelimit_windows)',
  max_count      BIGINT UNSIGNED NULL COMMENT 'limit for this key; NULL = unlimited for this key and window',
  comment        VARCHAR(255) NULL COMMENT 'free text for admins (why the exception)',
  created_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (rule_id, key_value, window_seconds),
  KEY ratelimit_overrides_window (rule_id, window_seconds),
  CONSTRAINT fk_ratelimit_overrides_window FOREIGN KEY (rule_id, window_seconds)
      REFERENCES ratelimit_windows (rule_id, window_seconds) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT ratelimit_overrides_key CHECK (key_value = LOWER(key_value) COLLATE utf8mb4_bin AND key_value REGEXP '^[^[:space:][:cntrl:]]+$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Per-key exceptions to a rate-limit window (a higher or lower limit for one login, sender, network)';

CREATE TABLE ratelimit_keys (
  rule_id   INT UNSIGNED NOT NULL COMMENT 'the rule that counts this key',
  key_value VARCHAR(320) NOT NULL COMMENT 'the counted key (as in ratelimit_overrides.key_value)',
  first_seen BIGINT UNSIGNED NOT NULL COMMENT 'Unix time this key was first counted (since its last pruning)',
  last_seen BIGINT UNSIGNED NOT NULL COMMENT 'Unix time of the latest check; pruning',
  PRIMARY KEY (rule_id, key_value),
  KEY ratelimit_keys_last_seen (last_seen),
  CONSTRAINT fk_ratelimit_keys_rule FOREIGN KEY (rule_id) REFERENCES ratelimit_rules (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-policyd): one row per counted key; its row lock serialises policyd instances checking the same key';

CREATE TABLE ratelimit_events (
  rule_id   INT UNSIGNED NOT NULL COMMENT 'the rule that counted',
  key_value VARCHAR(320) NOT NULL COMMENT 'the counted key (as in ratelimit_overrides.key_value)',
  bucket    BIGINT UNSIGNED NOT NULL COMMENT 'Unix time, whole second, of this bucket',
  amount    BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'messages/recipients/bytes counted in that second',
  PRIMARY KEY (rule_id, key_value, bucket),
  KEY ratelimit_events_bucket (bucket) COMMENT 'pruning',
  CONSTRAINT fk_ratelimit_events_rule FOREIGN KEY (rule_id) REFERENCES ratelimit_rules (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-policyd): sliding-window log with one-second buckets, shared by all policyd instances';

-- ---------------------------------------------------------------------
-- Sieve state (postern-lda)
-- ---------------------------------------------------------------------

CREATE TABLE vacation_responses (
  recipient  VARCHAR(320) NOT NULL COMMENT 'the mailbox address whose vacation action replied',
  handle     CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
             COMMENT 'hex SHA-256 of the vacation :handle (or of the implicit handle RFC 5230 derives from reason/subject/from)',
  sender     VARCHAR(320) NOT NULL COMMENT 'the address that got the reply (lower-case)',
  sent_at    BIGINT UNSIGNED NOT NULL COMMENT 'Unix time the reply was sent',
  expires_at BIGINT UNSIGNED NOT NULL COMMENT 'Unix time after which a new reply may be sent (sent_at + :days/:seconds); pruning',
  PRIMARY KEY (recipient, handle, sender),
  KEY vacation_responses_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-lda): which sender got which vacation reply when (one reply per period)';

-- ---------------------------------------------------------------------
-- Initial rows
-- ---------------------------------------------------------------------

INSERT INTO change_counter (tbl) VALUES
  ('domains'), ('mailboxes'), ('aliases'), ('transports'), ('relayhosts'),
  ('sender_grants'), ('dkim_keys'), ('policy_groups'), ('policy_group_members'),
  ('sender_rules'), ('group_send_rules'), ('group_send_allowed'),
  ('greylist_settings'), ('greylist_whitelist'),
  ('ratelimit_rules'), ('ratelimit_windows'), ('ratelimit_overrides');

-- The default greylisting row (postgrey-like values): 5 min delay, retry
-- within 2 days, forget after 35 days, auto-whitelist after 5 passes.
INSERT INTO greylist_settings (domain, enabled, delay_seconds, retry_window_seconds, expiry_seconds,
                               auto_whitelist_after, ipv4_prefix, ipv6_prefix, add_header, spf_pool)
  VALUES (NULL, 1, 300, 172800, 3024000, 5, 24, 64, 1, 1);

-- ---------------------------------------------------------------------
-- Consistency triggers (rules a CHECK constraint cannot express because
-- they look at another row).  They refuse with SQLSTATE 45000.
-- ---------------------------------------------------------------------

DELIMITER //

CREATE TRIGGER domains_bi_check BEFORE INSERT ON domains FOR EACH ROW
BEGIN
  IF NEW.kind = 'alias' AND EXISTS (SELECT 1 FROM domains WHERE name = NEW.alias_target AND kind = 'alias') THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'domains: alias_target must not itself be an alias domain (no alias chains)';
  END IF;
END//

CREATE TRIGGER domains_bu_check BEFORE UPDATE ON domains FOR EACH ROW
BEGIN
  IF NEW.kind = 'alias' THEN
    IF EXISTS (SELECT 1 FROM domains WHERE name = NEW.alias_target AND kind = 'alias') THEN
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'domains: alias_target must not itself be an alias domain (no alias chains)';
    END IF;
    IF EXISTS (SELECT 1 FROM domains WHERE alias_target = OLD.name) THEN
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'domains: other alias domains point at this domain; it cannot become an alias domain';
    END IF;
    IF EXISTS (SELECT 1 FROM mailboxes WHERE domain = OLD.name) OR EXISTS (SELECT 1 FROM aliases WHERE domain = OLD.name) THEN
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'domains: the domain still has mailboxes or aliases; it cannot become an alias domain';
    END IF;
  END IF;
END//

CREATE TRIGGER mailboxes_bi_check BEFORE INSERT ON mailboxes FOR EACH ROW
BEGIN
  IF EXISTS (SELECT 1 FROM domains WHERE name = NEW.domain AND kind = 'alias') THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'mailboxes: domain is an alias domain; create the mailbox in its alias_target';
  END IF;
END//

CREATE TRIGGER mailboxes_bu_check BEFORE UPDATE ON mailboxes FOR EACH ROW
BEGIN
  IF EXISTS (SELECT 1 FROM domains WHERE name = NEW.domain AND kind = 'alias') THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'mailboxes: domain is an alias domain; create the mailbox in its alias_target';
  END IF;
END//

CREATE TRIGGER aliases_bi_check BEFORE INSERT ON aliases FOR EACH ROW
BEGIN
  IF EXISTS (SELECT 1 FROM domains WHERE name = NEW.domain AND kind = 'alias') THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'aliases: domain is an alias domain; create the alias in its alias_target';
  END IF;
END//

CREATE TRIGGER aliases_bu_check BEFORE UPDATE ON aliases FOR EACH ROW
BEGIN
  IF EXISTS (SELECT 1 FROM domains WHERE name = NEW.domain AND kind = 'alias') THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'aliases: domain is an alias domain; create the alias in its alias_target';
  END IF;
END//

DELIMITER ;

-- ---------------------------------------------------------------------
-- Change tracking: every write to a configuration table bumps its
-- generation.  Rows removed or changed by ON DELETE/UPDATE CASCADE do
-- not fire triggers in MariaDB, so a parent's trigger also bumps the
-- child tables its cascades touch.
-- ---------------------------------------------------------------------

CREATE TRIGGER domains_ai AFTER INSERT ON domains FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'domains';
CREATE TRIGGER domains_au AFTER UPDATE ON domains FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'domains';
CREATE TRIGGER domains_ad AFTER DELETE ON domains FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'domains';

CREATE TRIGGER mailboxes_ai AFTER INSERT ON mailboxes FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'mailboxes';
CREATE TRIGGER mailboxes_au AFTER UPDATE ON mailboxes FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'mailboxes';
CREATE TRIGGER mailboxes_ad AFTER DELETE ON mailboxes FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'mailboxes';

CREATE TRIGGER aliases_ai AFTER INSERT ON aliases FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'aliases';
CREATE TRIGGER aliases_au AFTER UPDATE ON aliases FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'aliases';
CREATE TRIGGER aliases_ad AFTER DELETE ON aliases FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'aliases';

CREATE TRIGGER transports_ai AFTER INSERT ON transports FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'transports';
CREATE TRIGGER transports_au AFTER UPDATE ON transports FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'transports';
CREATE TRIGGER transports_ad AFTER DELETE ON transports FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'transports';

CREATE TRIGGER relayhosts_ai AFTER INSERT ON relayhosts FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'relayhosts';
CREATE TRIGGER relayhosts_au AFTER UPDATE ON relayhosts FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'relayhosts';
CREATE TRIGGER relayhosts_ad AFTER DELETE ON relayhosts FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'relayhosts';

CREATE TRIGGER sender_grants_ai AFTER INSERT ON sender_grants FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'sender_grants';
CREATE TRIGGER sender_grants_au AFTER UPDATE ON sender_grants FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'sender_grants';
CREATE TRIGGER sender_grants_ad AFTER DELETE ON sender_grants FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'sender_grants';

CREATE TRIGGER dkim_keys_ai AFTER INSERT ON dkim_keys FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'dkim_keys';
CREATE TRIGGER dkim_keys_au AFTER UPDATE ON dkim_keys FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'dkim_keys';
CREATE TRIGGER dkim_keys_ad AFTER DELETE ON dkim_keys FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'dkim_keys';

CREATE TRIGGER policy_groups_ai AFTER INSERT ON policy_groups FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'policy_groups';
CREATE TRIGGER policy_groups_au AFTER UPDATE ON policy_groups FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'policy_groups';
-- deleting a group cascades to its members
CREATE TRIGGER policy_groups_ad AFTER DELETE ON policy_groups FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl IN ('policy_groups', 'policy_group_members');

CREATE TRIGGER policy_group_members_ai AFTER INSERT ON policy_group_members FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'policy_group_members';
CREATE TRIGGER policy_group_members_au AFTER UPDATE ON policy_group_members FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'policy_group_members';
CREATE TRIGGER policy_group_members_ad AFTER DELETE ON policy_group_members FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'policy_group_members';

CREATE TRIGGER sender_rules_ai AFTER INSERT ON sender_rules FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'sender_rules';
CREATE TRIGGER sender_rules_au AFTER UPDATE ON sender_rules FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'sender_rules';
CREATE TRIGGER sender_rules_ad AFTER DELETE ON sender_rules FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'sender_rules';

CREATE TRIGGER group_send_rules_ai AFTER INSERT ON group_send_rules FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'group_send_rules';
CREATE TRIGGER group_send_rules_au AFTER UPDATE ON group_send_rules FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'group_send_rules';
-- deleting a rule cascades to its allowed groups
CREATE TRIGGER group_send_rules_ad AFTER DELETE ON group_send_rules FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl IN ('group_send_rules', 'group_send_allowed');

CREATE TRIGGER group_send_allowed_ai AFTER INSERT ON group_send_allowed FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'group_send_allowed';
CREATE TRIGGER group_send_allowed_au AFTER UPDATE ON group_send_allowed FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'group_send_allowed';
CREATE TRIGGER group_send_allowed_ad AFTER DELETE ON group_send_allowed FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'group_send_allowed';

CREATE TRIGGER greylist_settings_ai AFTER INSERT ON greylist_settings FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'greylist_settings';
CREATE TRIGGER greylist_settings_au AFTER UPDATE ON greylist_settings FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'greylist_settings';
CREATE TRIGGER greylist_settings_ad AFTER DELETE ON greylist_settings FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'greylist_settings';

CREATE TRIGGER greylist_whitelist_ai AFTER INSERT ON greylist_whitelist FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'greylist_whitelist';
CREATE TRIGGER greylist_whitelist_au AFTER UPDATE ON greylist_whitelist FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'greylist_whitelist';
CREATE TRIGGER greylist_whitelist_ad AFTER DELETE ON greylist_whitelist FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'greylist_whitelist';

CREATE TRIGGER ratelimit_rules_ai AFTER INSERT ON ratelimit_rules FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'ratelimit_rules';
CREATE TRIGGER ratelimit_rules_au AFTER UPDATE ON ratelimit_rules FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'ratelimit_rules';
-- deleting a rule cascades to its windows and overrides
CREATE TRIGGER ratelimit_rules_ad AFTER DELETE ON ratelimit_rules FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl IN ('ratelimit_rules', 'ratelimit_windows', 'ratelimit_overrides');

CREATE TRIGGER ratelimit_windows_ai AFTER INSERT ON ratelimit_windows FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'ratelimit_windows';
-- changing or deleting a window cascades to its overrides
CREATE TRIGGER ratelimit_windows_au AFTER UPDATE ON ratelimit_windows FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl IN ('ratelimit_windows', 'ratelimit_overrides');
CREATE TRIGGER ratelimit_windows_ad AFTER DELETE ON ratelimit_windows FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl IN ('ratelimit_windows', 'ratelimit_overrides');

CREATE TRIGGER ratelimit_overrides_ai AFTER INSERT ON ratelimit_overrides FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'ratelimit_overrides';
CREATE TRIGGER ratelimit_overrides_au AFTER UPDATE ON ratelimit_overrides FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'ratelimit_overrides';
CREATE TRIGGER ratelimit_overrides_ad AFTER DELETE ON ratelimit_overrides FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'ratelimit_overrides';

-- ---------------------------------------------------------------------
-- This file corresponds to migration 0001 (sql/migrations/0001_initial.sql).
-- ---------------------------------------------------------------------
INSERT INTO schema_version (version, name) VALUES (1, 'initial');
