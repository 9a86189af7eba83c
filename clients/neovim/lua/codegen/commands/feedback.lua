--- :'<,'>CodegenFeedback [text] — a review comment on a range becomes a previewed change;
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

local function report(daemon, result)
  if result.changed == false and not common.present(result.question) then
    common.notify('codegen: no change needed. ' .. (result.explanation or ''))
  else
    common.report_change('feedback', result)
    if result.applied == true and common.present(result.explanation) then
      common.notify(result.explanation)
    end
  end
  local tests = result.tests
  if type(tests) == 'table' then
    local level = (tests.failed or 0) > 0 and vim.log.levels.WARN or vim.log.levels.INFO
    common.notify(('codegen: tests after the change: %d passed, %d failed%s'):format(tests.passed or 0,
      tests.failed or 0, #common.list(tests.failing) > 0 and (' (' .. table.concat(tests.failing, ', ') .. ')') or ''),
      level)
  end
  offer_memory(daemon, result.proposedMemory)
end

--- Ask again while the model asks back; returns the last result (nil on error or when the user stops).
--- Marker comments have no thread to reply in: their question is shown and the user edits the markers.
local function converse(daemon, args, title)
  while true do
    local result = common.run(daemon, 'codegen.applyFeedback', args, title)
    if not result or not common.present(result.question) then
      return result
    end
    if args.markers then
      common.notify(('codegen asks: %s\n(answer in the marker comments, then run :CodegenFeedback! again)')
        :format(result.question))
      return nil
    end
    local reply = async.input({ prompt = ('codegen asks: %s '):format(result.question) })
    if not common.present(reply) then
      common.notify('codegen asked: ' .. result.question .. '\n(no reply sent; nothing was changed)')
      return nil
    end
    args = vim.tbl_extend('force', args, { comment = reply, runId = result.runId })
  end
end

--- Feedback on lines ``line1``..``line2`` of the current buffer.
--- @param opts {line1: integer, line2: integer, text: string|nil}
function M.range(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  if not client.is_file_buffer(bufnr) then
    common.notify('codegen: :CodegenFeedback works on a file buffer (save the buffer to a file first).',
      vim.log.levels.ERROR)
    return
  end
  local fname = vim.api.nvim_buf_get_name(bufnr)
  async.run(function()
    local comment = opts.text
    if not common.present(comment) then
      comment = async.input({ prompt = ('codegen feedback on lines %d-%d: '):format(opts.line1, opts.line2) })
      if not common.present(comment) then
        return
      end
    end
    local root = client.root_for(fname) or client.current_root()
    local daemon = common.daemon(root)
    if not daemon then
      return
    end
    local args = {
      uri = vim.uri_from_bufnr(bufnr),
      range = lines_range(bufnr, opts.line1, opts.line2, daemon.offset_encoding),
      comment = comment,
      verify = config.values.feedback.verify,
    }
    local result = converse(daemon, args, 'feedback')
    if result then
      report(daemon, result)
    end
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
        items[#items + 1] = { filename = vim.fs.joinpath(root, marker.path), lnum = marker.line, text = marker.text }
      end
      vim.fn.setqflist({}, ' ', { title = 'codegen: markers not acted on', items = items })
      common.notify(('codegen: %d marker comments were not acted on (see :copen)'):format(#remaining),
        vim.log.levels.WARN)
    end
  end)
end

return M
