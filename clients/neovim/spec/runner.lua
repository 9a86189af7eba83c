-- A small spec runner inside a real Neovim:
--
--   nvim --clean --headless -l spec/runner.lua spec/generate_spec.lua [more specs...]
--
-- Specs use describe/it/before_each/after_each and the checks eq/ok/contains (below). Each case
-- prints "ok N - name" or "not ok N - name" with the error and traceback; the last line is
-- "N passed, M failed" and the exit code is 1 when any case failed. (busted and plenary cannot be
-- fetched here; this is what the specs need and nothing more.)

local spec_dir = vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(arg[0], ':p')))
local plugin_dir = vim.fs.dirname(spec_dir)
vim.opt.runtimepath:prepend(plugin_dir)
package.path = spec_dir .. '/?.lua;' .. package.path
vim.cmd.runtime('plugin/codegen.lua')

local cases = {}
local stack = {}

local function full_name(name)
  local parts = {}
  for _, group in ipairs(stack) do
    parts[#parts + 1] = group.name
  end
  parts[#parts + 1] = name
  return table.concat(parts, ' ')
end

function _G.describe(name, fn)
  stack[#stack + 1] = { name = name, before = {}, after = {} }
  fn()
  stack[#stack] = nil
end

function _G.before_each(fn)
  table.insert(stack[#stack].before, fn)
end

function _G.after_each(fn)
  table.insert(stack[#stack].after, fn)
end

function _G.it(name, fn)
  local before, after = {}, {}
  for _, group in ipairs(stack) do
    vim.list_extend(before, group.before)
  end
  for i = #stack, 1, -1 do
    vim.list_extend(after, stack[i].after)
  end
  cases[#cases + 1] = { name = full_name(name), fn = fn, before = before, after = after }
end

--- Fail unless ``actual`` equals ``expected`` (deeply).
function _G.eq(expected, actual, message)
  if not vim.deep_equal(expected, actual) then
    error(('%sexpected %s, got %s'):format(message and (message .. ': ') or '', vim.inspect(expected),
      vim.inspect(actual)), 2)
  end
end

--- Fail unless ``value`` is truthy.
function _G.ok(value, message)
  if not value then
    error(message or 'expected a true value', 2)
  end
  return value
end

--- Fail unless the string ``haystack`` contains ``needle`` (plain text).
function _G.contains(haystack, needle, message)
  if type(haystack) ~= 'string' or not haystack:find(needle, 1, true) then
    error(('%sexpected %s to contain %s'):format(message and (message .. ': ') or '', vim.inspect(haystack),
      vim.inspect(needle)), 2)
  end
end

local function out(line)
  io.stdout:write(line .. '\n')
  io.stdout:flush()
end

for i = 1, #arg do
  local chunk = assert(loadfile(arg[i]))
  chunk()
end

local passed, failed = 0, 0
for n, case in ipairs(cases) do
  local errors = {}
  local function step(fn)
    local ok_, err = xpcall(fn, debug.traceback)
    if not ok_ then
      errors[#errors + 1] = err
    end
    return ok_
  end
  local ready = true
  for _, fn in ipairs(case.before) do
    ready = ready and step(fn)
  end
  if ready then
    step(case.fn)
  end
  for _, fn in ipairs(case.after) do
    step(fn)
  end
  if #errors == 0 then
    passed = passed + 1
    out(('ok %d - %s'):format(n, case.name))
  else
    failed = failed + 1
    out(('not ok %d - %s'):format(n, case.name))
    for _, err in ipairs(errors) do
      out('  ' .. tostring(err):gsub('\n', '\n  '))
    end
  end
end
out(('%d passed, %d failed'):format(passed, failed))
os.exit(failed == 0 and passed > 0 and 0 or 1)
