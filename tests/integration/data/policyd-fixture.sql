-- policyd-fixture.sql - the policy data tests/integration/policyd.sh runs
-- against (the LDAP side is tests/harness/ldap/school.ldif).
INSERT INTO domains (name, kind) VALUES
  ('bns.school.example', 'local'), ('eltern.school.example', 'local'),
  ('gym.school.example', 'local'), ('school.example', 'local');

INSERT INTO policy_groups (name) VALUES
  ('parents'), ('staff'), ('office'), ('bns-school'), ('young'), ('quarantine'),
  ('loop-a'), ('loop-b');
INSERT INTO policy_group_members (group_id, member_type, value)
            SELECT id, 'domain', 'eltern.school.example' FROM policy_groups WHERE name = 'parents'
  UNION ALL SELECT id, 'ldap_group', 'lehrer@bns.school.example' FROM policy_groups WHERE name = 'staff'
  UNION ALL SELECT id, 'group', 'office' FROM policy_groups WHERE name = 'staff'
  UNION ALL SELECT id, 'group', 'loop-a' FROM policy_groups WHERE name = 'staff'
  UNION ALL SELECT id, 'address', 'office@school.example' FROM policy_groups WHERE name = 'office'
  UNION ALL SELECT id, 'domain', 'bns.school.example' FROM policy_groups WHERE name = 'bns-school'
  UNION ALL SELECT id, 'ldap_group', 'cn=bns-5a,cn=klassen,cn=schueler,cn=groups,ou=bns,ou=schools,dc=school,dc=example' FROM policy_groups WHERE name = 'young'
  UNION ALL SELECT id, 'address', 'suspect@example.org' FROM policy_groups WHERE name = 'quarantine';
INSERT INTO policy_group_members (group_id, member_type, value)
            SELECT id, 'group', 'loop-b' FROM policy_groups WHERE name = 'loop-a'
  UNION ALL SELECT id, 'group', 'loop-a' FROM policy_groups WHERE name = 'loop-b';

INSERT INTO sender_grants (login, match_type, pattern) VALUES
  ('office@school.example', 'domain', 'bns.school.example');

INSERT INTO sender_rules (priority, name, sender_group_id, recipient_group_id, action, require_auth, reject_text)
  SELECT r.priority, r.name, s.id, t.id, r.action, r.auth, r.txt FROM (
              SELECT 10 AS priority, 'parents-from-parents' AS name, 'parents' AS sg, 'parents' AS rg, 'permit' AS action, 1 AS auth, NULL AS txt
    UNION ALL SELECT 20, 'parents-from-staff', 'staff', 'parents', 'permit', 1, NULL
    UNION ALL SELECT 30, 'parents-closed', NULL, 'parents', 'reject', 0, 'Parent mailboxes accept mail only from parents and school staff'
    UNION ALL SELECT 40, 'young-send-inside', 'young', 'bns-school', 'permit', 1, NULL
    UNION ALL SELECT 41, 'young-send-closed', 'young', NULL, 'reject', 0, 'Students of this class may only write to addresses of their school'
    UNION ALL SELECT 50, 'young-receive-inside', 'bns-school', 'young', 'permit', 1, NULL
    UNION ALL SELECT 51, 'young-receive-closed', NULL, 'young', 'reject', 0, 'This mailbox accepts mail only from its school'
    UNION ALL SELECT 60, 'quarantine', 'quarantine', NULL, 'defer', 0, 'Quarantined sender, try later'
  ) r LEFT JOIN policy_groups s ON s.name = r.sg LEFT JOIN policy_groups t ON t.name = r.rg;

-- greylisting: 4 s delay for the test (a loaded 2-core machine needs ~2 s per client start), auto-whitelist after 2 passes
UPDATE greylist_settings SET delay_seconds = 4, retry_window_seconds = 600,
  expiry_seconds = 3600, auto_whitelist_after = 2 WHERE domain IS NULL;
INSERT INTO greylist_settings (domain, enabled) VALUES ('gym.school.example', 0);
INSERT INTO greylist_whitelist (kind, value) VALUES
  ('client_network', '203.0.113.0/24'),
  ('client_hostname', '.outbound.bigmail.example'),
  ('sender_domain', 'partner.example'),
  ('recipient', 'postmaster@bns.school.example');

-- rate limits
INSERT INTO ratelimit_rules (name, key_type, match_value, counts, action, text, priority) VALUES
  ('login-messages', 'sasl_login', NULL, 'messages', 'defer', 'Too many messages, slow down', 10),
  ('net-recipients', 'client_address', '198.51.100.0/24', 'recipients', 'reject', 'Too many recipients', 20),
  ('big-bytes', 'sasl_login', 'big@bns.school.example', 'bytes', 'defer', NULL, 30),
  ('held', 'sasl_login', 'held@bns.school.example', 'messages', 'hold', 'Held for review', 5),
  ('short', 'sasl_login', 'short@bns.school.example', 'messages', 'defer', 'Slow down', 8);
UPDATE ratelimit_rules SET ipv4_prefix = 24 WHERE name = 'net-recipients';
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
            SELECT id, 3600, 3 FROM ratelimit_rules WHERE name = 'login-messages'
  UNION ALL SELECT id, 86400, 5 FROM ratelimit_rules WHERE name = 'login-messages'
  UNION ALL SELECT id, 60, 2 FROM ratelimit_rules WHERE name = 'net-recipients'
  UNION ALL SELECT id, 3600, 1000 FROM ratelimit_rules WHERE name = 'big-bytes'
  UNION ALL SELECT id, 3600, 0 FROM ratelimit_rules WHERE name = 'held'
  UNION ALL SELECT id, 3, 2 FROM ratelimit_rules WHERE name = 'short';
INSERT INTO ratelimit_overrides (rule_id, key_value, window_seconds, max_count)
  SELECT id, 'teacher@bns.school.example', 3600, NULL FROM ratelimit_rules WHERE name = 'login-messages';
