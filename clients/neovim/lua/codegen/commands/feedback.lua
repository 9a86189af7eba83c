--- :'<,'>CodegenFeedback [text] — a review comment on a range becomes a previewed change;
--- :CodegenReply [text] — a reply in the buffer's last feedback thread;
--- :CodegenFeedback! — act on the `codegen:` marker comments of the workspace.
local async = require('codegen.async')
local client = require('codegen.client')
local common = require('codegen.commands.common')
local config = require('codegen.config')

local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1

--- Length of a line in the client's position units.
local function line_length(line, encoding)
  if encoding == 'utf-8' then
    return #line
  end
  if has_011 then
    return vim.str_utfindex(line, encoding)
  end
  local utf32, utf16 = vim.str_utfindex(line)
  return encoding == 'utf-16' and utf16 or utf32
end

--- The LSP range of whole lines ``line1``..``line2`` (1-based, inclusive).
local function lines_range(bufnr, line1, line2, encoding)
  local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
  return {
    start = { line = line1 - 1, character = 0 },
    ['end'] = { line = line2 - 1, character = line_length(last, encoding) },
  }
end

--- Offer each preference the model proposes to remember; keep the ones the user accepts.
local function offer_memory(daemon, proposals)
  for _, text in ipairs(common.list(proposals)) do
    local choice = async.select({ 'Remember', 'Not now' }, { prompt = ('codegen: remember "%s"?'):format(text) })
    if choice == 'Remember' then
      local memory = common.run(daemon, 'codegen.memory', { add = text }, 'memory')
      if memory then
        common.notify(('codegen remembers: %s (%s)'):format(text, memory.path))
      end
    end
  end
end

--- The model's explanation without its directive ("NO CHANGE: nothing to edit." says it as prose).
local function explanation_of(result)
  local text = common.present(result.explanation) and vim.trim(result.explanation) or ''
  return (text:gsub('^%**%s*NO CHANGE%s*%**%s*:%s*', ''):gsub('%s*\n%s*', ' '))
end

--- One message for the finished run: what changed (or why nothing did), the explanation, the tests.
local function report(daemon, result)
  local parts, level = {}, vim.log.levels.INFO
  local explanation = explanation_of(result)
  if result.changed == false and not common.present(result.question) then
    parts[1] = 'codegen: no change needed' .. (explanation ~= '' and (': ' .. explanation) or '.')
  elseif result.applied == true then
    local files = common.describe_files(result.files)
    parts[1] = ('codegen feedback: %s'):format(files ~= '' and files or 'no files changed')
    if explanation ~= '' then
      parts[#parts + 1] = explanation
    end
  else
    common.report_change('feedback', result)
    parts = nil
  end
  local tests = result.tests
  if parts and type(tests) == 'table' then
    if (tests.failed or 0) > 0 then
      level = vim.log.levels.WARN
    end
    parts[#parts + 1] = ('tests after the change: %d passed, %d failed%s'):format(tests.passed or 0,
      tests.failed or 0, #common.list(tests.failing) > 0 and (' (' .. table.concat(tests.failing, ', ') .. ')') or '')
  end
  if parts then
    common.notify(table.concat(parts, ' — '), level)
  end
  offer_memory(daemon, result.proposedMemory)
end

--- Ask again while the model asks back. Returns the final result, or nil (after an error, or when the
--- user left a question unanswered) and the run holding the open question.
--- Marker comments have no thread to reply in: their question is shown and the user edits the markers.
local function converse(daemon, args, title)
  while true do
    local result = common.run(daemon, 'codegen.applyFeedback', args, title)
    if not result or not common.present(result.question) then
      return result, nil
    end
    if args.markers then
      common.notify(('codegen asks: %s (answer in the marker comments, then run :CodegenFeedback! again)')
        :format(result.question))
      return nil, nil
    end
    local reply = async.input({ prompt = ('codegen asks: %s '):format(result.question) })
    if not common.present(reply) then
      common.notify(('codegen asked: %s (nothing was changed; :CodegenReply answers it)'):format(result.question))
      return nil, result.runId
    end
    args = vim.tbl_extend('force', args, { comment = reply, runId = result.runId })
  end
end

local threads_ns = vim.api.nvim_create_namespace('codegen.feedback')

--- The last feedback thread of each buffer: its latest run and an extmark over its lines, which
--- follows the edits (so a reply covers the code as it is now).
--- @type table<integer, {run_id: string, mark: integer}>
M.threads = {}

--- An extmark over lines ``line1``..``line2`` (reusing ``id``), set before the change so it grows with it.
local function mark_lines(bufnr, line1, line2, id)
  local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
  return vim.api.nvim_buf_set_extmark(bufnr, threads_ns, line1 - 1, 0, {
    id = id,
    end_row = line2 - 1,
    end_col = #last,
    right_gravity = false,
    end_right_gravity = true,
  })
end

--- The lines (1-based) a thread's extmark covers now.
local function thread_lines(bufnr, thread)
  local mark = vim.api.nvim_buf_get_extmark_by_id(bufnr, threads_ns, thread.mark, { details = true })
  if not mark[1] then
    return nil
  end
  return mark[1] + 1, (mark[3] and mark[3].end_row or mark[1]) + 1
end

--- Send a comment on lines ``line1``..``line2``, optionally as a reply in the buffer's thread; report
--- the outcome. The buffer's thread then continues from this run.
local function comment_on(bufnr, line1, line2, comment, reply_to)
  local root = client.root_for(vim.api.nvim_buf_get_name(bufnr)) or client.current_root()
  local daemon = common.daemon(root)
  if not daemon then
    return
  end
  local args = {
    uri = vim.uri_from_bufnr(bufnr),
    range = lines_range(bufnr, line1, line2, daemon.offset_encoding),
    comment = comment,
    runId = reply_to,
    verify = config.values.feedback.verify,
  }
  local thread = M.threads[bufnr]
  local mark = mark_lines(bufnr, line1, line2, reply_to and thread and thread.mark or nil)
  local result, open_question = converse(daemon, args, reply_to and 'reply' or 'feedback')
  local run_id = result and result.runId or open_question
  if common.present(run_id) then
    M.threads[bufnr] = { run_id = run_id, mark = mark }
  elseif not reply_to and vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_del_extmark(bufnr, threads_ns, mark)
  end
  if result then
    report(daemon, result)
  end
end

local function file_buffer_or_notify()
  local bufnr = vim.api.nvim_get_current_buf()
  if not client.is_file_buffer(bufnr) then
    common.notify('codegen: feedback works on a file buffer (save the buffer to a file first).',
      vim.log.levels.ERROR)
    return nil
  end
  return bufnr
end

--- Feedback on lines ``line1``..``line2`` of the current buffer (a new thread).
--- @param opts {line1: integer, line2: integer, text: string|nil}
function M.range(opts)
  local bufnr = file_buffer_or_notify()
  if not bufnr then
    return
  end
  async.run(function()
    local comment = opts.text
    if not common.present(comment) then
      comment = async.input({ prompt = ('codegen feedback on lines %d-%d: '):format(opts.line1, opts.line2) })
      if not common.present(comment) then
        return
      end
    end
    comment_on(bufnr, opts.line1, opts.line2, comment, nil)
  end)
end

--- A reply in the current buffer's last feedback thread: the model sees the earlier turns and what
--- became of them, and the code of the thread's lines as it is now.
--- @param text string|nil
function M.reply(text)
  local bufnr = file_buffer_or_notify()
  if not bufnr then
    return
  end
  local thread = M.threads[bufnr]
  local line1, line2
  if thread then
    line1, line2 = thread_lines(bufnr, thread)
  end
  if not line1 then
    common.notify('codegen: no feedback thread in this buffer: start one with :CodegenFeedback.',
      vim.log.levels.ERROR)
    return
  end
  async.run(function()
    local comment = text
    if not common.present(comment) then
      comment = async.input({ prompt = ('codegen reply (lines %d-%d): '):format(line1, line2) })
      if not common.present(comment) then
        return
      end
    end
    comment_on(bufnr, line1, line2, comment, thread.run_id)
  end)
end

--- Act on every `codegen:` marker comment in the workspace; the ones left over go to the quickfix list.
function M.markers()
  async.run(function()
    local root = client.current_root()
    local daemon = common.daemon(root)
    if not daemon then
      return
    end
    local found = common.run(daemon, 'codegen.collectFeedback', {}, 'collect markers')
    if not found then
      return
    end
    if #common.list(found.markers) == 0 then
      common.notify(('codegen: no `codegen:` marker comments in %s'):format(root))
      return
    end
    local result = converse(daemon, { markers = true, verify = config.values.feedback.verify },
      ('feedback on %d markers'):format(#found.markers))
    if not result then
      return
    end
    report(daemon, result)
    local remaining = type(result.markers) == 'table' and common.list(result.markers.remaining) or {}
    if #remaining > 0 then
      local items = {}
      for _, marker in ipairs(remaining) do
        -- The model's NOT DONE reason, when it gave one, says why this marker was left.
        local text = common.present(marker.note) and ('%s — not done: %s'):format(marker.text, marker.note) or marker.text
        items[#items + 1] = { filename = vim.fs.joinpath(root, marker.path), lnum = marker.line, text = text }
      end
      vim.fn.setqflist({}, ' ', { title = 'codegen: markers not acted on', items = items })
      common.notify(('codegen: %d marker comment%s not acted on (see :copen)')
        :format(#remaining, #remaining == 1 and ' was' or 's were'),
        vim.log.levels.WARN)
    end
  end)
end

return M
