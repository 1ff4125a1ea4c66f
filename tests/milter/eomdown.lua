-- eomdown.lua - LDAP goes away between RCPT and end of message: the
-- expansion at end of message fails with 451 4.4.3 (no member silently
-- skipped).  Handshake with milter-proto.sh through two files: this script
-- creates MARK after RCPT, the shell stops slapd and creates GO.
dofile(DIR .. "/common.lua")

local conn = open("198.51.100.7", "submit.test.example")
mail(conn, "QEOM1", "bernd.lehrer", "<bernd.lehrer@bns.school.example>")
expect("QEOM1: LDAP up, RCPT 9a: continue",
       mt.rcptto(conn, "<9a@bns.school.example>"), conn, SMFIR_CONTINUE)

local f = assert(io.open(MARK, "w"))
f:close()
local waited = 0
while not io.open(GO, "r") do
    mt.sleep(0.1)
    waited = waited + 1
    if waited > 200 then error("the shell did not stop slapd within 20 s") end
end

local r = message(conn, {{"From", "bernd.lehrer@bns.school.example"},
                         {"Subject", "ldap gone"}})
check("QEOM1: LDAP down at end of message: reply code", r == SMFIR_REPLYCODE,
      rname(r))
-- miltertest compares the whole reply: code, enhanced code and text
check("QEOM1: ... 451 4.4.3 Group directory unavailable",
      mt.eom_check(conn, MT_SMTPREPLY, "451", "4.4.3",
                   "Group directory unavailable, try again later"))
check("QEOM1: ... nothing added or removed",
      not mt.eom_check(conn, MT_RCPTADD, "<max.schueler@bns.school.example>") and
      not mt.eom_check(conn, MT_RCPTDELETE, "<9a@bns.school.example>"))
mt.disconnect(conn)
finish()
