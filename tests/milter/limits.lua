-- limits.lua - header limits and the Authentication-Results handling.
-- Config (milter-proto.sh): max_headers = 10, max_header_bytes = 1k,
-- authserv_id = mx.test.example, a DKIM key for bns.school.example
-- (selector t1), SPF record "sender.example: v=spf1 ip4:192.0.2.10 -all"
-- in the private DNS.  With -D SIGNED=FILE, the first signed message is
-- written to FILE as the milter saw it, with its DKIM-Signature on top,
-- for an independent verifier (dkimverify in milter-proto.sh).
dofile(DIR .. "/common.lua")

local function headers(n, extra)
    local h = {{"From", "anna.lehrer@bns.school.example"}, {"Subject", "limits"}}
    for i = 1, n do h[#h + 1] = {"X-Filler-" .. i, "value " .. i} end
    if extra then h[#h + 1] = extra end
    return h
end

-- outbound (authenticated): signed within the limits, unsigned beyond
local conn = open("198.51.100.7", "submit.test.example")
mail(conn, "QLIM1", "anna.lehrer", "<anna.lehrer@bns.school.example>")
mt.rcptto(conn, "<someone@example.net>")
local h1 = headers(5)
local body = "test message\r\nsecond  line \r\n"
local r = message(conn, h1, body)
check("QLIM1: 7 headers: continue", r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, rname(r))
check("QLIM1: ... DKIM-Signature inserted",
      mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"))
local sig = mt.getheader(conn, "DKIM-Signature", 0) or ""
check("QLIM1: ... d=bns.school.example s=t1", sig:find("d=bns.school.example", 1, true)
      and sig:find("s=t1", 1, true), sig)
check("QLIM1: ... relaxed/relaxed", sig:find("c=relaxed/relaxed", 1, true), sig)
if SIGNED then
    local f = assert(io.open(SIGNED, "w"))
    f:write("DKIM-Signature:" .. sig .. "\r\n")
    for _, h in ipairs(h1) do f:write(h[1] .. ": " .. h[2] .. "\r\n") end
    f:write("\r\n" .. body)
    f:close()
end

mail(conn, "QLIM2", "anna.lehrer", "<anna.lehrer@bns.school.example>")
mt.rcptto(conn, "<someone@example.net>")
r = message(conn, headers(12))
check("QLIM2: 14 headers (over max_headers 10): accepted",
      r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, rname(r))
check("QLIM2: ... not signed", not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"))

mail(conn, "QLIM3", "anna.lehrer", "<anna.lehrer@bns.school.example>")
mt.rcptto(conn, "<someone@example.net>")
local long = headers(0)
for i = 1, 3 do long[#long + 1] = {"X-Long-" .. i, string.rep("a", 500)} end
r = message(conn, long)
check("QLIM3: 5 headers of 1.5 KiB (over max_header_bytes 1k): accepted",
      r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, rname(r))
check("QLIM3: ... not signed", not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"))
mt.disconnect(conn)

-- inbound (unauthenticated, untrusted): forged A-R headers removed, ours
-- inserted at the top; too many forged ones: 550 5.7.0
conn = open("192.0.2.10", "mail.sender.example")
mail(conn, "QLIM4", nil, "<news@sender.example>")
mt.rcptto(conn, "<someone@example.net>")
r = message(conn, {
    {"Authentication-Results", "mx.test.example; spf=pass smtp.mailfrom=x@y.example"},
    {"Authentication-Results", "other.example; spf=fail smtp.mailfrom=news@sender.example"},
    {"Authentication-Results", "MX.TEST.EXAMPLE; dkim=pass header.d=forged.example"},
    {"From", "news@sender.example"}, {"Subject", "inbound"}})
check("QLIM4: inbound with forged A-R headers: continue",
      r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, rname(r))
check("QLIM4: ... A-R headers changed (removed)",
      mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results") or
      mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"))
local ar = mt.getheader(conn, "Authentication-Results", 0) or ""
check("QLIM4: ... ours inserted at index 0",
      mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results", ar, 0), ar)
check("QLIM4: ... with our authserv-id, spf=pass, dkim=none",
      ar:find("mx.test.example", 1, true) and
      ar:find("spf=pass smtp.mailfrom=news@sender.example", 1, true) and
      ar:find("dkim=none", 1, true), ar)

mail(conn, "QLIM5", nil, "<news@sender.example>")
mt.rcptto(conn, "<someone@example.net>")
local h = {{"From", "news@sender.example"}}
for i = 1, 11 do
    h[#h + 1] = {"Authentication-Results", "mx.test.example; none " .. i}
end
r = message(conn, h)
check("QLIM5: 11 A-R headers claiming our id (over max_headers): reply code",
      r == SMFIR_REPLYCODE, rname(r))
check("QLIM5: ... 550 5.7.0 Too many Authentication-Results header fields",
      mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.0",
                   "Too many Authentication-Results header fields"))
check("QLIM5: ... no header inserted",
      not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"))
mt.disconnect(conn)
finish()
