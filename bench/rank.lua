-- wrk script for `python -m bench rank`: POST the rank body in $RANK_BODY (a JSON file written by
-- bench/rank.py: the retail sample without its eventId, so the service gives each request a new id).
local path = os.getenv("RANK_BODY")
local file = assert(io.open(path, "rb"), "RANK_BODY must name the request body file")
local body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
