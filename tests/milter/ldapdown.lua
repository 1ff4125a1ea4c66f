-- ldapdown.lua - run while slapd is stopped (milter-proto.sh): a recipient
-- in group_domains cannot be resolved, so RCPT gets a temporary failure
-- (451 4.4.3, checked in the milter log by milter-proto.sh) instead of
-- being taken for an ordinary address; a recipient outside group_domains
-- needs no LDAP and passes.
dofile(DIR .. "/common.lua")

local conn = open("198.51.100.7", "submit.test.example")
mail(conn, "QLDP1", "bernd.lehrer", "<bernd.lehrer@bns.school.example>")
expect("QLDP1: LDAP down, RCPT 9a: temporary failure (reply code)",
       mt.rcptto(conn, "<9a@bns.school.example>"), conn, SMFIR_REPLYCODE)
expect("QLDP1: LDAP down, RCPT a plain user of a group domain: temporary failure",
       mt.rcptto(conn, "<max.schueler@bns.school.example>"), conn, SMFIR_REPLYCODE)
expect("QLDP1: LDAP down, RCPT outside group_domains: continue",
       mt.rcptto(conn, "<someone@example.net>"), conn, SMFIR_CONTINUE)
local r = message(conn, {{"From", "bernd.lehrer@bns.school.example"}})
check("QLDP1: end of message for the remaining recipient: continue",
      r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, rname(r))
check("QLDP1: nothing added or removed",
      not mt.eom_check(conn, MT_RCPTADD, "<lena.schueler@bns.school.example>") and
      not mt.eom_check(conn, MT_RCPTDELETE, "<someone@example.net>"))
mt.disconnect(conn)
finish()
