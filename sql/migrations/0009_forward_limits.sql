-- 0009_forward_limits: rate-limit rules keyed on the forwarding account.
--
-- key_type 'forwarder' counts forwarded copies (an alias or catch-all to
-- an outside address: postern-forward; a Sieve redirect, notification or
-- vacation reply: postern-lda) per the account that produced them, in its
-- canonical form (lower case, no +extension, alias domains resolved): the
-- alias address (Postfix's original recipient), or the mailbox whose
-- script ran.  postern-policyd does not count these rules at SMTP time.
-- They use the same counter tables (ratelimit_keys, ratelimit_events) and
-- the same exact sliding windows.  The audit triggers of 0007 name
-- columns, not values, and need no change.

ALTER TABLE ratelimit_rules
  MODIFY key_type ENUM('sasl_login','sender','sender_domain','client_address','recipient','forwarder') NOT NULL
    COMMENT 'what is counted separately: per SASL login, sender address, sender domain, (masked) client address, recipient address, or forwarding account (forwarded copies, Sieve redirect/notify/vacation)';

ALTER TABLE ratelimit_rules
  DROP CONSTRAINT ratelimit_rules_match_address,
  ADD CONSTRAINT ratelimit_rules_match_address CHECK (match_value IS NULL OR key_type NOT IN ('sender','recipient','forwarder')
      OR match_value REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  ADD CONSTRAINT ratelimit_rules_forwarder_group CHECK (group_id IS NULL OR key_type <> 'forwarder');
