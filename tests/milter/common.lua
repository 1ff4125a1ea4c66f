-- common.lua - helpers for the miltertest(8) scripts in tests/milter/,
-- loaded with dofile(DIR .. "/common.lua").  Globals set by the caller
-- (tests/integration/milter-proto.sh) with miltertest -D:
--   SOCKET   the milter, libmilter style: inet:PORT@127.0.0.1
--   DIR      this directory
-- Every check prints "ok - TEXT" or "not ok - TEXT (detail)"; finish()
-- ends the script with an error (miltertest exits non-zero) if one failed.

failed = 0

local names = {}
for _, n in ipairs({"SMFIR_CONTINUE", "SMFIR_ACCEPT", "SMFIR_REJECT",
                    "SMFIR_TEMPFAIL", "SMFIR_DISCARD", "SMFIR_REPLYCODE",
                    "SMFIR_SKIP"}) do
    if _G[n] ~= nil then names[_G[n]] = n end
end

function rname(r)
    return names[r] or tostring(r)
end

function check(desc, cond, detail)
    if cond then
        mt.echo("ok - " .. desc)
    else
        failed = failed + 1
        mt.echo("not ok - " .. desc .. (detail and (" (" .. detail .. ")") or ""))
    end
end

-- expect DESC ERR CONN WANT: the step ERR (nil = sent) answered WANT
function expect(desc, err, conn, want)
    if err ~= nil then
        check(desc, false, "miltertest: " .. tostring(err))
        return false
    end
    local r = mt.getreply(conn)
    check(desc, r == want, "reply " .. rname(r) .. ", expected " .. rname(want))
    return r == want
end

-- open CLIENT_IP HELO: a new milter session, connect and helo checked
function open(ip, helo)
    local conn = mt.connect(SOCKET, 40, 0.25)
    if conn == nil then
        error("cannot connect to the milter at " .. SOCKET)
    end
    expect("connect " .. ip .. ": continue",
           mt.conninfo(conn, "client.test.example", ip), conn, SMFIR_CONTINUE)
    expect("helo " .. helo .. ": continue", mt.helo(conn, helo), conn,
           SMFIR_CONTINUE)
    return conn
end

-- mail CONN QID LOGIN FROM: MAIL FROM with the macros Postfix sends
-- (i, and {auth_authen} when LOGIN is not nil)
function mail(conn, qid, login, from)
    if login then
        mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", login)
    else
        mt.macro(conn, SMFIC_MAIL, "i", qid)
    end
    return expect(qid .. ": MAIL FROM " .. from .. ": continue",
                  mt.mailfrom(conn, from), conn, SMFIR_CONTINUE)
end

-- message CONN HEADERS BODY: headers (list of {name, value}), eoh, body, eom
function message(conn, headers, body)
    for _, h in ipairs(headers) do
        local err = mt.header(conn, h[1], h[2])
        if err ~= nil or mt.getreply(conn) ~= SMFIR_CONTINUE then
            check("header " .. h[1] .. " accepted", false, tostring(err))
        end
    end
    if mt.eoh(conn) ~= nil then error("mt.eoh failed") end
    if mt.bodystring(conn, body or "test message\r\n") ~= nil then
        error("mt.bodystring failed")
    end
    if mt.eom(conn) ~= nil then error("mt.eom failed") end
    return mt.getreply(conn)
end

function finish()
    if failed > 0 then
        error(failed .. " check(s) failed")
    end
end
