-- wrk script for `python -m bench.offers`: POST /api/offers as a storefront would, a new body per
-- request: a visitor from a pool of $OFFERS_USERS ids (the first ones have profiles), a placement
-- (homepage, product page with a product, cart with products) and a context (device, hour).
local users = tonumber(os.getenv("OFFERS_USERS") or "1000")
local products = {}
for id in string.gmatch(os.getenv("OFFERS_PRODUCTS") or "", "[^,]+") do
  products[#products + 1] = id
end
local devices = { "mobile", "desktop", "tablet" }
-- OFFERS_ANONYMOUS=1: a session id instead of a user id, so no profile is read (the engine alone)
local who = os.getenv("OFFERS_ANONYMOUS") == "1" and "sessionId" or "userId"
local thread_no = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("seed", thread_no)
end

function init(args)
  math.randomseed(7 + (seed or 0))
end

local function product()
  return products[math.random(#products)]
end

function request()
  local kind = math.random(3)
  local body = string.format('{"%s":"u-%d","count":3,"context":{"device":"%s","hour":%d}',
    who, math.random(users) - 1, devices[math.random(#devices)], math.random(24) - 1)
  if kind == 2 then
    body = body .. string.format(',"placement":"product","productId":"%s"', product())
  elseif kind == 3 then
    body = body .. string.format(',"placement":"cart","cartProductIds":["%s","%s"]', product(), product())
  end
  body = body .. "}"
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
