--- What every command does alike: find the daemon, run one daemon command, report errors once.
local client = require('codegen.client')
local errors = require('codegen.errors')
local notify = require('codegen.notify')

local M = {}

--- A value the daemon sent that holds something (JSON null arrives as vim.NIL).
--- @return boolean
function M.present(value)
  return value ~= nil and value ~= vim.NIL and value ~= ''
end

--- A list the daemon sent (null or missing is empty).
--- @return table
function M.list(value)
  return type(value) == 'table' and value or {}
end

--- @param message string
--- @param level integer|nil vim.log.levels
function M.notify(message, level)
  notify.notify(message, level)
end

--- The daemon for ``root``, started if needed; nil after notifying the error (awaits).
--- @param root string
--- @return vim.lsp.Client|nil
function M.daemon(root)
  local c, err = client.ensure(root)
  if not c then
    M.notify('codegen: ' .. err, vim.log.levels.ERROR)
  end
  return c
end

--- Run one daemon command (awaits). Returns its result, or nil once an error or a cancel was reported.
--- @param c vim.lsp.Client
--- @param command string
--- @param args table
--- @param title string e.g. "generate"
--- @return table|nil
function M.run(c, command, args, title)
  local err, result = client.execute(c, command, args, title)
  if err then
    if err.code == errors.REQUEST_CANCELLED then
      M.notify(('codegen %s was cancelled; nothing was written.'):format(title), vim.log.levels.WARN)
    else
      errors.notify(title, err)
    end
    return nil
  end
  if type(result) ~= 'table' then
    errors.notify(title, { message = 'the daemon sent no result' })
    return nil
  end
  if result.cancelled == true then
    M.notify(M.describe_cancel(title, result), vim.log.levels.WARN)
    return nil
  end
  return result
end

--- "create a.py, modify b.py" from a result's files; past three, "+N more" (one line in the message area).
--- @return string
function M.describe_files(files)
  local parts = {}
  files = M.list(files)
  for i, file in ipairs(files) do
    if i > 3 then
      parts[#parts + 1] = ('+%d more'):format(#files - 3)
      break
    end
    parts[#parts + 1] = ('%s %s'):format(file.action or 'change', file.path)
  end
  return table.concat(parts, ', ')
end

--- What a cancelled command's answer says: its message, what it had written and where the files were
--- put back to (`written`, `restoredTo`; older daemons send only the message).
--- @return string
function M.describe_cancel(title, result)
  local text = 'codegen: ' .. (M.present(result.message) and result.message or (title .. ' was cancelled'))
  local written = M.list(result.written)
  if #written > 0 and not text:find('written', 1, true) then
    text = ('%s (%d file%s written%s)'):format(text, #written, #written == 1 and '' or 's',
      M.present(result.restoredTo) and (', restored to ' .. result.restoredTo) or '')
  end
  if M.present(result.runId) and #written > 0 then
    text = text .. '; :CodegenUndo ' .. result.runId .. ' undoes it'
  end
  return text
end

--- The hunks that did not apply, on one line: `{file, hunk, reason, closest}` each (older daemons send
--- `path` and `closestLine`; other failures carry `message`).
--- @return string
function M.describe_failures(failures)
  local parts = {}
  for _, failure in ipairs(M.list(failures)) do
    if type(failure) == 'table' then
      local why = failure.reason or failure.message or ''
      if M.present(failure.closest) then
        why = ('%s (closest: %s)'):format(why, vim.trim(tostring(failure.closest)):gsub('%s*\n%s*', ' / '))
      elseif M.present(failure.closestLine) then
        why = ('%s (closest match at line %d)'):format(why, failure.closestLine)
      end
      local where = failure.file or failure.path or '?'
      if type(failure.hunk) == 'number' then
        where = ('%s hunk %d'):format(where, failure.hunk)
      end
      parts[#parts + 1] = ('%s: %s'):format(where, why)
    else
      parts[#parts + 1] = tostring(failure)
    end
  end
  return table.concat(parts, '; ')
end

--- Report an applied / not applied change result (generate, feedback, apply diff).
--- @param what string e.g. "generate"
function M.report_change(what, result)
  local rejected = require('codegen.preview').take_rejected()
  local kept = vim.tbl_filter(function(file)
    return not vim.tbl_contains(rejected, file.path)
  end, M.list(result.files))
  local files = M.describe_files(kept)
  if result.applied == true then
    local text = files ~= '' and files or 'no files changed'
    if #rejected > 0 then
      text = ('%s (rejected in the review: %s)'):format(text, table.concat(rejected, ', '))
    end
    M.notify(('codegen %s: %s'):format(what, text))
  else
    local reason = M.present(result.reason) and result.reason or 'nothing was applied'
    local failures = M.describe_failures(result.failures)
    M.notify(('codegen %s: not applied: %s%s'):format(what, reason, failures ~= '' and (' — ' .. failures) or ''),
      vim.log.levels.WARN)
  end
end

return M
