-- 0008_dmarc: DMARC (RFC 7489) in postern-milter and the DKIM fallback key.
--
-- domains.dmarc_action: what postern-milter does with inbound mail to this
-- (recipient) domain whose DMARC evaluation fails under p=reject or
-- p=quarantine; NULL = [milter] dmarc_action.  domains.dkim_fallback: the
-- domain whose dkim_keys sign mail from this domain when it has no active
-- key of its own (its parent domain, or a provider domain for customer
-- domains); NULL = [milter] dkim_fallback.  Both columns are added to the
-- domains audit triggers of 0007, which are recreated here.
--
-- dmarc_results: one row per (UTC day, DMARC result tuple) with a message
-- count, the input of RFC 7489 aggregate reports (postern dmarc report).
-- postern-milter adds to it (INSERT ... ON DUPLICATE KEY UPDATE); it is
-- STATE (not audited, no change_counter trigger), pruned by the report job.

ALTER TABLE domains
  ADD COLUMN dkim_fallback VARCHAR(253) NULL
    COMMENT 'sign mail from this domain with the dkim_keys of that domain when it has none of its own (parent or provider domain); NULL = [milter] dkim_fallback'
    AFTER dkim_selector,
  ADD COLUMN dmarc_action ENUM('reject','quarantine','record') NULL
    COMMENT 'inbound mail to this domain failing DMARC: reject honours p=reject, quarantine also turns p=reject into quarantine, record only writes results; NULL = [milter] dmarc_action'
    AFTER dkim_fallback,
  ADD CONSTRAINT domains_dkim_fallback_syntax CHECK (dkim_fallback IS NULL OR (dkim_fallback <> name AND dkim_fallback REGEXP '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'));

CREATE TABLE dmarc_results (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key (Galera needs a primary key)',
  day             DATE NOT NULL COMMENT 'UTC day the messages were received (aggregate reports cover whole UTC days)',
  row_hash        BINARY(32) NOT NULL COMMENT 'SHA-256 of the result tuple (every column below except the counters and the published policy), computed by postern-milter',
  policy_domain   VARCHAR(253) NOT NULL COMMENT 'domain whose _dmarc record applied (the RFC5322.From domain or its organizational domain): the report goes to its rua',
  header_from     VARCHAR(253) NOT NULL COMMENT 'RFC5322.From domain',
  envelope_from   VARCHAR(253) NULL COMMENT 'RFC5321.MailFrom domain (NULL for the null sender)',
  envelope_to     VARCHAR(253) NULL COMMENT 'recipient domain (the first one of the message)',
  source_ip       VARCHAR(45) NOT NULL COMMENT 'the connecting client address',
  disposition     ENUM('none','quarantine','reject') NOT NULL COMMENT 'what postern did',
  dkim_aligned    ENUM('pass','fail') NOT NULL COMMENT 'policy_evaluated dkim',
  spf_aligned     ENUM('pass','fail') NOT NULL COMMENT 'policy_evaluated spf',
  reason          ENUM('forwarded','sampled_out','trusted_forwarder','mailing_list','local_policy','other') NULL COMMENT 'why the disposition differs from the policy, if it does',
  reason_comment  VARCHAR(255) NULL COMMENT 'free text for the reason',
  spf_domain      VARCHAR(253) NULL COMMENT 'domain SPF was checked for (MAIL FROM, or HELO for the null sender)',
  spf_scope       ENUM('mfrom','helo') NULL,
  spf_result      ENUM('none','neutral','pass','fail','softfail','temperror','permerror') NULL,
  dkim_results    JSON NULL COMMENT 'array of {"domain","selector","result"} of every DKIM signature evaluated',
  messages        INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'messages with this tuple on this day',
  p               ENUM('none','quarantine','reject') NOT NULL COMMENT 'published policy (last seen)',
  sp              ENUM('none','quarantine','reject') NULL COMMENT 'published subdomain policy',
  pct             TINYINT UNSIGNED NOT NULL DEFAULT 100,
  adkim           ENUM('r','s') NOT NULL DEFAULT 'r',
  aspf            ENUM('r','s') NOT NULL DEFAULT 'r',
  fo              VARCHAR(16) NULL,
  rua             VARCHAR(1000) NULL COMMENT 'the rua tag as published (last seen); NULL = the domain wants no aggregate reports',
  updated_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY dmarc_results_tuple (day, row_hash),
  KEY dmarc_results_domain (policy_domain, day),
  CONSTRAINT dmarc_results_json CHECK (dkim_results IS NULL OR JSON_VALID(dkim_results))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-milter): DMARC results per UTC day and tuple, read by postern dmarc report';

DROP TRIGGER domains_audit_ai;
DROP TRIGGER domains_audit_au;
DROP TRIGGER domains_audit_ad;

DELIMITER //

CREATE TRIGGER domains_audit_ai AFTER INSERT ON domains FOR EACH ROW FOLLOWS domains_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'domains', 'INSERT', LEFT(NEW.name, 700), LEFT(NULL, 320), LEFT(NEW.name, 253), NULL, JSON_OBJECT('name', NEW.name, 'kind', NEW.kind, 'alias_target', NEW.alias_target, 'transport', NEW.transport, 'legacy_transport', NEW.legacy_transport, 'relayhost', NEW.relayhost, 'default_quota_bytes', NEW.default_quota_bytes, 'dkim_selector', NEW.dkim_selector, 'dkim_fallback', NEW.dkim_fallback, 'dmarc_action', NEW.dmarc_action, 'description', NEW.description, 'active', NEW.active))//
CREATE TRIGGER domains_audit_au AFTER UPDATE ON domains FOR EACH ROW FOLLOWS domains_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.name <=> BINARY NEW.name) THEN SET o = JSON_SET(o, '$.name', OLD.name), n = JSON_SET(n, '$.name', NEW.name); END IF;
  IF NOT (BINARY OLD.kind <=> BINARY NEW.kind) THEN SET o = JSON_SET(o, '$.kind', OLD.kind), n = JSON_SET(n, '$.kind', NEW.kind); END IF;
  IF NOT (BINARY OLD.alias_target <=> BINARY NEW.alias_target) THEN SET o = JSON_SET(o, '$.alias_target', OLD.alias_target), n = JSON_SET(n, '$.alias_target', NEW.alias_target); END IF;
  IF NOT (BINARY OLD.transport <=> BINARY NEW.transport) THEN SET o = JSON_SET(o, '$.transport', OLD.transport), n = JSON_SET(n, '$.transport', NEW.transport); END IF;
  IF NOT (BINARY OLD.legacy_transport <=> BINARY NEW.legacy_transport) THEN SET o = JSON_SET(o, '$.legacy_transport', OLD.legacy_transport), n = JSON_SET(n, '$.legacy_transport', NEW.legacy_transport); END IF;
  IF NOT (BINARY OLD.relayhost <=> BINARY NEW.relayhost) THEN SET o = JSON_SET(o, '$.relayhost', OLD.relayhost), n = JSON_SET(n, '$.relayhost', NEW.relayhost); END IF;
  IF NOT (BINARY OLD.default_quota_bytes <=> BINARY NEW.default_quota_bytes) THEN SET o = JSON_SET(o, '$.default_quota_bytes', OLD.default_quota_bytes), n = JSON_SET(n, '$.default_quota_bytes', NEW.default_quota_bytes); END IF;
  IF NOT (BINARY OLD.dkim_selector <=> BINARY NEW.dkim_selector) THEN SET o = JSON_SET(o, '$.dkim_selector', OLD.dkim_selector), n = JSON_SET(n, '$.dkim_selector', NEW.dkim_selector); END IF;
  IF NOT (BINARY OLD.dkim_fallback <=> BINARY NEW.dkim_fallback) THEN SET o = JSON_SET(o, '$.dkim_fallback', OLD.dkim_fallback), n = JSON_SET(n, '$.dkim_fallback', NEW.dkim_fallback); END IF;
  IF NOT (BINARY OLD.dmarc_action <=> BINARY NEW.dmarc_action) THEN SET o = JSON_SET(o, '$.dmarc_action', OLD.dmarc_action), n = JSON_SET(n, '$.dmarc_action', NEW.dmarc_action); END IF;
  IF NOT (BINARY OLD.description <=> BINARY NEW.description) THEN SET o = JSON_SET(o, '$.description', OLD.description), n = JSON_SET(n, '$.description', NEW.description); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'domains', 'UPDATE', LEFT(NEW.name, 700), LEFT(NULL, 320), LEFT(NEW.name, 253), o, n);
  END IF;
END//
CREATE TRIGGER domains_audit_ad AFTER DELETE ON domains FOR EACH ROW FOLLOWS domains_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'domains', 'DELETE', LEFT(OLD.name, 700), LEFT(NULL, 320), LEFT(OLD.name, 253), JSON_OBJECT('name', OLD.name, 'kind', OLD.kind, 'alias_target', OLD.alias_target, 'transport', OLD.transport, 'legacy_transport', OLD.legacy_transport, 'relayhost', OLD.relayhost, 'default_quota_bytes', OLD.default_quota_bytes, 'dkim_selector', OLD.dkim_selector, 'dkim_fallback', OLD.dkim_fallback, 'dmarc_action', OLD.dmarc_action, 'description', OLD.description, 'active', OLD.active), NULL)//

DELIMITER ;
