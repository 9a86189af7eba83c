--- Sequential flows over callbacks: each command runs in a coroutine and awaits the daemon and the user.
local M = {}

local function resume(co, ...)
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    vim.notify('codegen: internal error: ' .. debug.traceback(co, tostring(err)), vim.log.levels.ERROR,
      { title = 'codegen' })
  end
end

--- Run ``fn`` as a flow that may await.
--- @param fn fun()
function M.run(fn)
  resume(coroutine.create(fn))
end

--- Await a callback: ``register(done)`` starts the work and calls ``done(...)`` once with the results.
--- @param register fun(done: fun(...))
--- @return any ...
function M.await(register)
  local co = assert(coroutine.running(), 'codegen: await outside a flow')
  local finished, results = false, nil
  local waiting = false
  register(function(...)
    if finished then
      return
    end
    finished, results = true, { n = select('#', ...), ... }
    if waiting then
      -- Resume from the main loop, never from inside the callback's caller.
      vim.schedule(function()
        resume(co, unpack(results, 1, results.n))
      end)
    end
  end)
  if finished then -- answered synchronously
    return unpack(results, 1, results.n)
  end
  waiting = true
  return coroutine.yield()
end

--- Await until ``predicate()`` holds (checked every 20 ms) or ``timeout_ms`` passes.
--- @return boolean held
function M.poll(predicate, timeout_ms)
  if predicate() then
    return true
  end
  local deadline = vim.uv.now() + timeout_ms
  return M.await(function(done)
    local timer = assert(vim.uv.new_timer())
    timer:start(20, 20, vim.schedule_wrap(function()
      if timer:is_closing() then
        return
      end
      local held = predicate()
      if held or vim.uv.now() >= deadline then
        timer:stop()
        timer:close()
        done(held)
      end
    end))
  end)
end

--- Await `vim.ui.input`; nil when the user cancelled (<Esc>).
--- @param opts table vim.ui.input options
--- @return string|nil
function M.input(opts)
  return M.await(function(done)
    vim.ui.input(opts, function(value)
      done(value)
    end)
  end)
end

--- Await `vim.ui.select`; nil when the user cancelled.
function M.select(items, opts)
  return M.await(function(done)
    vim.ui.select(items, opts, function(choice)
      done(choice)
    end)
  end)
end

return M
