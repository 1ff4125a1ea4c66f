-- =====================================================================
-- postern sample data: a school authority
--
-- Load after the schema (sql/migrate), before or without sample-isp.sql:
--     mariadb postern < sql/sample-school.sql
--
--   school.example          the authority (administration, IT, newsletter)
--   bns.school.example      Berta-Nolte-Schule, a primary/secondary school
--   bns-schule.example      alias domain of bns.school.example (old name)
--   gym.school.example      Gymnasium; one teacher still on the legacy store
--   eltern.school.example   parents ("Eltern") of both schools, in their own
--                           domain so that rules can name them as one group
--
-- Classes (5a, 9a, 9b at BNS; 9a at GYM) are LDAP groups (UCS@school
-- layout) expanded by postern-milter; who may write to them is in
-- group_send_rules.  The school policy as data:
--   * parents accept mail only from other parents and from school staff;
--   * young students (class 5a at BNS) send and receive only inside BNS;
--   * authenticated students: at most 100 messages/hour and 300/day.
-- Only RFC 2606 .example names and RFC 5737/3849 documentation addresses.
-- =====================================================================

SET NAMES utf8mb4;

-- ---------------------------------------------------------------------
-- Domains
-- ---------------------------------------------------------------------
INSERT INTO domains (name, kind, alias_target, transport, legacy_transport, relayhost, default_quota_bytes, dkim_selector, description) VALUES
  ('school.example',        'local', NULL, NULL, NULL, NULL, 2147483648, 'sel2025', 'school authority (Schulträger)'),
  ('bns.school.example',    'local', NULL, NULL, NULL, NULL, 1073741824, NULL,      'Berta-Nolte-Schule'),
  ('gym.school.example',    'local', NULL, NULL, 'smtp:[old-mail.gym.school.example]:25', NULL, 1073741824, 'gym2025', 'Gymnasium; migration from its old server in progress'),
  ('eltern.school.example', 'local', NULL, NULL, NULL, NULL, 268435456,  NULL,      'parents of all schools');
INSERT INTO domains (name, kind, alias_target, description) VALUES
  ('bns-schule.example',    'alias', 'bns.school.example', 'former name of the Berta-Nolte-Schule');

-- ---------------------------------------------------------------------
-- Mailboxes (maildir is derived; volumes vol01/vol02)
-- ---------------------------------------------------------------------
INSERT INTO mailboxes (local_part, domain, display_name, quota_bytes, volume, migration_state) VALUES
  -- authority
  ('admin',          'school.example',        'Verwaltung Schulträger',   NULL,        'vol01', 'migrated'),
  ('it-support',     'school.example',        'IT-Support',               NULL,        'vol01', 'migrated'),
  ('newsletter',     'school.example',        'Newsletter',               104857600,   'vol01', 'migrated'),
  ('schulverwaltung','school.example',        'Schulverwaltung',          NULL,        'vol01', 'migrated'),
  -- BNS staff
  ('office',         'bns.school.example',    'Sekretariat BNS',          5368709120,  'vol01', 'migrated'),
  ('m.mueller',      'bns.school.example',    'Martina Müller',           NULL,        'vol01', 'migrated'),
  ('a.schmidt',      'bns.school.example',    'Andreas Schmidt',          NULL,        'vol01', 'migrated'),
  ('t.weber',        'bns.school.example',    'Tanja Weber',              NULL,        'vol02', 'migrated'),
  ('j.krause',       'bns.school.example',    'Jürgen Krause (Schulleitung)', NULL,    'vol02', 'migrated'),
  -- BNS students: class 5a
  ('lena.fischer',   'bns.school.example',    'Lena Fischer (5a)',        536870912,   'vol01', 'migrated'),
  ('jonas.wagner',   'bns.school.example',    'Jonas Wagner (5a)',        536870912,   'vol02', 'migrated'),
  -- BNS students: class 9a and 9b
  ('mia.becker',     'bns.school.example',    'Mia Becker (9a)',          536870912,   'vol01', 'migrated'),
  ('paul.hoffmann',  'bns.school.example',    'Paul Hoffmann (9a)',       536870912,   'vol02', 'migrated'),
  ('emma.schulz',    'bns.school.example',    'Emma Schulz (9b)',         536870912,   'vol01', 'migrated'),
  ('noah.koch',      'bns.school.example',    'Noah Koch (9b)',           536870912,   'vol02', 'migrated'),
  -- GYM staff; s.klein has not been migrated yet (mail goes to the old server)
  ('office',         'gym.school.example',    'Sekretariat Gymnasium',    5368709120,  'vol02', 'migrated'),
  ('k.richter',      'gym.school.example',    'Klaus Richter',            NULL,        'vol02', 'migrated'),
  ('s.klein',        'gym.school.example',    'Sabine Klein',             NULL,        'vol01', 'legacy'),
  -- GYM students: class 9a
  ('lea.wolf',       'gym.school.example',    'Lea Wolf (9a)',            536870912,   'vol01', 'migrated'),
  ('ben.neumann',    'gym.school.example',    'Ben Neumann (9a)',         536870912,   'vol02', 'migrated'),
  -- parents
  ('p.fischer',      'eltern.school.example', 'Petra Fischer',            NULL,        'vol02', 'migrated'),
  ('r.wagner',       'eltern.school.example', 'Ralf Wagner',              NULL,        'vol01', 'migrated'),
  ('h.becker',       'eltern.school.example', 'Heike Becker',             NULL,        'vol02', 'migrated'),
  ('j.wolf',         'eltern.school.example', 'Jan Wolf',                 NULL,        'vol01', 'migrated');

-- ---------------------------------------------------------------------
-- Aliases, forwards, catch-all
-- ---------------------------------------------------------------------
INSERT INTO aliases (domain, local_part, target, keep_copy, comment) VALUES
  ('school.example',     'postmaster',  'it-support@school.example',     0, 'RFC 5321 postmaster'),
  ('school.example',     'abuse',       'it-support@school.example',     0, NULL),
  ('bns.school.example', 'postmaster',  'it-support@school.example',     0, NULL),
  ('gym.school.example', 'postmaster',  'it-support@school.example',     0, NULL),
  ('bns.school.example', 'schulleitung','j.krause@bns.school.example',   0, 'role address of the head teacher'),
  -- one address, several targets
  ('bns.school.example', 'kollegium',   'm.mueller@bns.school.example',  0, 'static staff list (classes come from LDAP)'),
  ('bns.school.example', 'kollegium',   'a.schmidt@bns.school.example',  0, NULL),
  ('bns.school.example', 'kollegium',   't.weber@bns.school.example',    0, NULL),
  ('bns.school.example', 'kollegium',   'j.krause@bns.school.example',   0, NULL),
  -- forward with a copy kept in the mailbox
  ('bns.school.example', 't.weber',     'tanja.weber@private-mail.example', 1, 'forward, keep a copy'),
  -- forward without a copy: on sabbatical, everything goes to his university address
  ('bns.school.example', 'a.schmidt',   'andreas.schmidt@uni-mail.example', 0, 'forward without copy'),
  -- catch-all: unknown addresses of the Gymnasium reach its office
  ('gym.school.example', NULL,          'office@gym.school.example',     0, 'catch-all');

-- ---------------------------------------------------------------------
-- Routing: transports, relay hosts
-- ---------------------------------------------------------------------
INSERT INTO transports (match_type, pattern, purpose, transport, comment) VALUES
  ('default', '', 'delivery', 'relay:[smarthost.provider.example]:587', 'everything external leaves through the provider''s smarthost'),
  ('default', '', 'local',    'postern-lda:',                          'local mailboxes: postern-lda (master.cf service)'),
  ('default', '', 'legacy',   'smtp:[legacy-store.school.example]:25', 'mailboxes not migrated yet'),
  ('domain',  'partner-schule.example', 'delivery', 'smtp:[mx.partner-schule.example]:25', 'direct route to a partner school, not via the smarthost');

INSERT INTO relayhosts (match_type, pattern, nexthop, credential_ref, comment) VALUES
  ('default', '',                          '[smarthost.provider.example]:587', '[smarthost.provider.example]:587', 'all senders'),
  ('address', 'newsletter@school.example', '[bulk.provider.example]:587',      'newsletter@school.example',        'bulk mail through the provider''s newsletter relay');

-- ---------------------------------------------------------------------
-- Send-as
-- ---------------------------------------------------------------------
INSERT INTO sender_grants (login, match_type, pattern, comment) VALUES
  ('m.mueller@bns.school.example', 'address', 'office@bns.school.example', 'teacher staffing the office'),
  ('a.schmidt@bns.school.example', 'address', 'office@bns.school.example', 'teacher staffing the office'),
  ('j.krause@bns.school.example',  'address', 'schulleitung@bns.school.example', 'head teacher role address'),
  ('schulverwaltung@school.example', 'domain', 'bns.school.example', 'authority office may send for the school'),
  ('schulverwaltung@school.example', 'domain', 'gym.school.example', 'authority office may send for the school');

-- ---------------------------------------------------------------------
-- DKIM keys (private keys under /etc/postern/dkim/, readable by the milter)
-- ---------------------------------------------------------------------
INSERT INTO dkim_keys (domain, selector, algorithm, key_path, active, comment) VALUES
  ('school.example',     'sel2025', 'rsa-sha256',     '/etc/postern/dkim/school.example/sel2025.key',     1, NULL),
  ('bns.school.example', '2025r',   'rsa-sha256',     '/etc/postern/dkim/bns.school.example/2025r.key',   1, 'dual signing: RSA ...'),
  ('bns.school.example', '2025e',   'ed25519-sha256', '/etc/postern/dkim/bns.school.example/2025e.key',   1, '... and Ed25519'),
  ('gym.school.example', 'gym2024', 'rsa-sha256',     '/etc/postern/dkim/gym.school.example/gym2024.key', 0, 'retired'),
  ('gym.school.example', 'gym2025', 'rsa-sha256',     '/etc/postern/dkim/gym.school.example/gym2025.key', 1, 'current (domains.dkim_selector)');

-- ---------------------------------------------------------------------
-- Policy groups
-- ---------------------------------------------------------------------
INSERT INTO policy_groups (name, description) VALUES
  ('school-parents',      'every parent mailbox'),
  ('school-staff',        'teachers and staff of all schools and the authority'),
  ('school-students',     'every student of every school'),
  ('bns-school',          'everyone at the Berta-Nolte-Schule (its domains)'),
  ('bns-young-students',  'BNS students who may only mail inside the school (class 5a)'),
  ('bns-teachers',        'teachers of the Berta-Nolte-Schule'),
  ('gym-teachers',        'teachers of the Gymnasium');

INSERT INTO policy_group_members (group_id, member_type, value, comment)
  SELECT g.id, m.member_type, m.value, m.comment
  FROM policy_groups g JOIN (
              SELECT 'school-parents' AS grp, 'domain' AS member_type, 'eltern.school.example' AS value, 'all parent mailboxes' AS comment
    UNION ALL SELECT 'school-staff', 'domain',     'school.example', 'authority staff'
    UNION ALL SELECT 'school-staff', 'group',      'bns-teachers', NULL
    UNION ALL SELECT 'school-staff', 'group',      'gym-teachers', NULL
    UNION ALL SELECT 'school-staff', 'address',    'office@bns.school.example', NULL
    UNION ALL SELECT 'school-staff', 'address',    'office@gym.school.example', NULL
    UNION ALL SELECT 'school-staff', 'ldap_group', 'cn=mitarbeiter-bns,cn=groups,ou=bns,dc=school,dc=example', 'UCS@school staff group'
    UNION ALL SELECT 'bns-teachers', 'ldap_group', 'cn=lehrer-bns,cn=groups,ou=bns,dc=school,dc=example', 'UCS@school teachers group'
    UNION ALL SELECT 'bns-teachers', 'address',    'm.mueller@bns.school.example', 'also listed here for SQL-only tests'
    UNION ALL SELECT 'bns-teachers', 'address',    'a.schmidt@bns.school.example', NULL
    UNION ALL SELECT 'bns-teachers', 'address',    't.weber@bns.school.example', NULL
    UNION ALL SELECT 'bns-teachers', 'address',    'j.krause@bns.school.example', NULL
    UNION ALL SELECT 'gym-teachers', 'ldap_group', 'cn=lehrer-gym,cn=groups,ou=gym,dc=school,dc=example', NULL
    UNION ALL SELECT 'gym-teachers', 'address',    'k.richter@gym.school.example', NULL
    UNION ALL SELECT 'gym-teachers', 'address',    's.klein@gym.school.example', NULL
    UNION ALL SELECT 'school-students', 'ldap_group', 'cn=schueler-bns,cn=groups,ou=bns,dc=school,dc=example', NULL
    UNION ALL SELECT 'school-students', 'ldap_group', 'cn=schueler-gym,cn=groups,ou=gym,dc=school,dc=example', NULL
    UNION ALL SELECT 'school-students', 'group',      'bns-young-students', NULL
    UNION ALL SELECT 'school-students', 'address',    'mia.becker@bns.school.example', NULL
    UNION ALL SELECT 'school-students', 'address',    'paul.hoffmann@bns.school.example', NULL
    UNION ALL SELECT 'school-students', 'address',    'emma.schulz@bns.school.example', NULL
    UNION ALL SELECT 'school-students', 'address',    'noah.koch@bns.school.example', NULL
    UNION ALL SELECT 'school-students', 'address',    'lea.wolf@gym.school.example', NULL
    UNION ALL SELECT 'school-students', 'address',    'ben.neumann@gym.school.example', NULL
    UNION ALL SELECT 'bns-school',   'domain',     'bns.school.example', NULL
    UNION ALL SELECT 'bns-school',   'domain',     'bns-schule.example', 'the alias domain too'
    UNION ALL SELECT 'bns-young-students', 'ldap_group', 'cn=bns-5a,cn=klassen,cn=schueler,cn=groups,ou=bns,dc=school,dc=example', 'class 5a'
    UNION ALL SELECT 'bns-young-students', 'address', 'lena.fischer@bns.school.example', NULL
    UNION ALL SELECT 'bns-young-students', 'address', 'jonas.wagner@bns.school.example', NULL
  ) m ON m.grp = g.name;

-- ---------------------------------------------------------------------
-- Sender rules (first match by priority wins; no match = no objection)
-- ---------------------------------------------------------------------
INSERT INTO sender_rules (priority, name, sender_group_id, recipient_group_id, action, require_auth, require_spf_pass, reject_text, comment)
  SELECT r.priority, r.name, s.id, t.id, r.action, r.require_auth, r.require_spf_pass, r.reject_text, r.comment
  FROM (
              SELECT 10 AS priority, 'parents-from-parents' AS name, 'school-parents' AS sgrp, 'school-parents' AS rgrp,
                     'permit' AS action, 1 AS require_auth, 0 AS require_spf_pass, NULL AS reject_text,
                     'parents write to parents (authenticated, so a forged parent address from outside does not pass)' AS comment
    UNION ALL SELECT 20, 'parents-from-staff', 'school-staff', 'school-parents', 'permit', 1, 0, NULL,
                     'staff write to parents'
    UNION ALL SELECT 30, 'parents-closed', NULL, 'school-parents', 'reject', 0, 0,
                     'Parent mailboxes accept mail only from parents and school staff',
                     'everyone else is refused at the MX'
    UNION ALL SELECT 40, 'young-students-send-inside', 'bns-young-students', 'bns-school', 'permit', 1, 0, NULL,
                     'class 5a may write inside the school'
    UNION ALL SELECT 41, 'young-students-send-closed', 'bns-young-students', NULL, 'reject', 0, 0,
                     'Students of this class may only write to addresses of their school',
                     'and nowhere else'
    UNION ALL SELECT 50, 'young-students-receive-inside', 'bns-school', 'bns-young-students', 'permit', 1, 0, NULL,
                     'class 5a receives from inside the school'
    UNION ALL SELECT 51, 'young-students-receive-closed', NULL, 'bns-young-students', 'reject', 0, 0,
                     'This mailbox accepts mail only from its school',
                     'and from nowhere else'
  ) r
  LEFT JOIN policy_groups s ON s.name = r.sgrp
  LEFT JOIN policy_groups t ON t.name = r.rgrp;

-- ---------------------------------------------------------------------
-- Group send rights (postern-milter); the class addresses are LDAP groups
-- ---------------------------------------------------------------------
INSERT INTO group_send_rules (group_address, may_send, require_auth, reject_text, description) VALUES
  ('5a@bns.school.example',      'groups',        1, 'Only teachers may write to this class', 'class 5a'),
  ('9a@bns.school.example',      'groups',        1, 'Only teachers may write to this class', 'class 9a'),
  ('9b@bns.school.example',      'members',       1, NULL, 'class 9b: its students and (via LDAP) its teachers'),
  ('lehrer@bns.school.example',  'groups',        1, 'Students may not write to all teachers', 'all teachers of BNS'),
  ('9a@gym.school.example',      'groups',        1, NULL, 'class 9a at the Gymnasium'),
  ('alle@school.example',        'authenticated', 1, NULL, 'everyone of the authority; any authenticated user'),
  ('info@school.example',        'anyone',        1, NULL, 'public group address');

INSERT INTO group_send_allowed (rule_id, policy_group_id)
  SELECT r.id, g.id FROM group_send_rules r JOIN policy_groups g
    ON (r.group_address IN ('5a@bns.school.example', '9a@bns.school.example', 'lehrer@bns.school.example') AND g.name IN ('bns-teachers'))
    OR (r.group_address = 'lehrer@bns.school.example' AND g.name = 'school-staff')
    OR (r.group_address = '9a@gym.school.example' AND g.name = 'gym-teachers');

-- ---------------------------------------------------------------------
-- Greylisting (the default row comes with the schema)
-- ---------------------------------------------------------------------
INSERT INTO greylist_settings (domain, enabled) VALUES
  ('school.example', 0);                                  -- mail from other authorities is never delayed
INSERT INTO greylist_settings (domain, delay_seconds, add_header) VALUES
  ('eltern.school.example', 600, 0);                      -- longer delay, no header

INSERT INTO greylist_whitelist (kind, value, comment) VALUES
  ('client_network',   '192.0.2.0/24',           'state education network (Landesnetz)'),
  ('client_network',   '2001:db8:100::/48',      'state education network, IPv6'),
  ('client_network',   '198.51.100.25',          'the school portal''s mail server'),
  ('client_hostname',  '.mail.provider.example', 'big provider, retries from a pool'),
  ('sender_domain',    'kultusministerium.example', 'ministry'),
  ('sender_address',   'noreply@schoolportal.example', 'portal notifications'),
  ('recipient',        'it-support@school.example', 'support must not be delayed'),
  ('recipient_domain', 'school.example',         'same effect as greylist_settings enabled=0');

-- ---------------------------------------------------------------------
-- Rate limits: authenticated students 100 messages/hour and 300/day
-- ---------------------------------------------------------------------
INSERT INTO ratelimit_rules (name, key_type, match_value, group_id, counts, action, text, priority, comment)
  SELECT 'school-students-messages', 'sasl_login', NULL, id, 'messages', 'defer',
         'Too many messages from your account, please try again later', 10,
         'stops a compromised student account'
  FROM policy_groups WHERE name = 'school-students';
INSERT INTO ratelimit_rules (name, key_type, match_value, group_id, counts, action, text, priority, comment) VALUES
  ('school-any-login-recipients', 'sasl_login', NULL, NULL, 'recipients', 'hold', NULL, 20,
   'any account: over 2000 recipients a day is held for review');

INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
  SELECT id, 3600, 100 FROM ratelimit_rules WHERE name = 'school-students-messages'
  UNION ALL SELECT id, 86400, 300 FROM ratelimit_rules WHERE name = 'school-students-messages'
  UNION ALL SELECT id, 86400, 2000 FROM ratelimit_rules WHERE name = 'school-any-login-recipients';

INSERT INTO ratelimit_overrides (rule_id, key_value, window_seconds, max_count, comment)
  SELECT id, 'mia.becker@bns.school.example', 86400, 600, 'student council (Schülersprecherin)'
  FROM ratelimit_rules WHERE name = 'school-students-messages';
INSERT INTO ratelimit_overrides (rule_id, key_value, window_seconds, max_count, comment)
  SELECT id, 'newsletter@school.example', 86400, NULL, 'newsletter: no recipient limit'
  FROM ratelimit_rules WHERE name = 'school-any-login-recipients';
