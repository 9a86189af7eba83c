--- `workspace/applyEdit` with a preview: the daemon's edits are shown as a unified diff (one section per
--- file) in a scratch buffer, and nothing changes until the user accepts.
local config = require('codegen.config')

local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1
local text_diff = (vim.text and vim.text.diff) or vim.diff

local DECLINED = 'the change was declined in the preview'
local preview_count = 0

--- Open previews: bufnr -> {finish(accepted), the id of the client whose daemon asked}.
--- @type table<integer, {finish: fun(accepted: boolean), client_id: integer|nil}>
local open_previews = {}

--- Does any change annotation of the edit ask for confirmation?
local function needs_confirmation(edit)
  for _, annotation in pairs(edit.changeAnnotations or {}) do
    if annotation.needsConfirmation then
      return true
    end
  end
  return false
end

--- The warnings the daemon attached to the edit: a file that makes an editor, a shell or git run code
--- gets a change annotation of its own whose description says so. Their labels, in a stable order.
--- @return string[]
function M.warnings(edit)
  local ids = {}
  for id, annotation in pairs(edit.changeAnnotations or {}) do
    if type(annotation.description) == 'string' and annotation.description ~= '' then
      ids[#ids + 1] = id
    end
  end
  table.sort(ids)
  return vim.tbl_map(function(id)
    local annotation = edit.changeAnnotations[id]
    return type(annotation.label) == 'string' and annotation.label or annotation.description
  end, ids)
end

--- The label of the change as a whole: the request's, else the annotation that carries no warning.
local function change_label(params, edit)
  if params.label then
    return params.label
  end
  for _, annotation in pairs(edit.changeAnnotations or {}) do
    if not (type(annotation.description) == 'string' and annotation.description ~= '') then
      return annotation.label
    end
  end
  return nil
end

--- The loaded buffer of a file, if any (bufnr() would take the name as a pattern).
--- @param fname string
--- @return integer|nil
local function loaded_buffer(fname)
  fname = vim.fs.normalize(fname)
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.fs.normalize(vim.api.nvim_buf_get_name(bufnr)) == fname then
      return bufnr
    end
  end
  return nil
end

--- A buffer's text: as Neovim sends it to the daemon (a final newline when 'eol'), or with ``written``
--- as writing it produces ('fixeol' adds one too). An empty buffer is an empty file.
local function buffer_text(bufnr, written)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  if #lines == 1 and lines[1] == '' then
    return ''
  end
  local text = table.concat(lines, '\n')
  local bo = vim.bo[bufnr]
  return (bo.eol or (written and bo.fixeol)) and text .. '\n' or text
end

--- The text of a file as the editor holds it: the loaded buffer, else the disk, else nil.
local function current_text(fname)
  local bufnr = loaded_buffer(fname)
  if bufnr then
    return buffer_text(bufnr, false)
  end
  local file = io.open(fname, 'rb')
  if not file then
    return nil
  end
  local text = file:read('*a')
  file:close()
  return text
end

local function byte_index(line, character, encoding)
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  local ok, index
  if has_011 then
    ok, index = pcall(vim.str_byteindex, line, encoding, character, false)
  else
    ok, index = pcall(vim.str_byteindex, line, character, encoding == 'utf-16')
  end
  return ok and index or #line
end

--- Apply LSP text edits to a string (what the buffer will hold after accepting).
--- @param text string
--- @param edits lsp.TextEdit[]
--- @param encoding string the client's position encoding
--- @return string
function M.apply_text_edits(text, edits, encoding)
  local starts = { 1 } -- byte offset (1-based) where each line starts
  for pos in text:gmatch('()\n') do
    starts[#starts + 1] = pos + 1
  end
  local function offset(position)
    local line_start = starts[position.line + 1]
    if not line_start then
      return #text + 1
    end
    local line_end = (starts[position.line + 2] or #text + 2) - 1 -- the newline's offset
    local line = text:sub(line_start, line_end - 1):gsub('\r$', '')
    return line_start + byte_index(line, position.character, encoding)
  end
  local ordered = {}
  for i, edit in ipairs(edits) do
    ordered[i] = { index = i, first = offset(edit.range.start), last = offset(edit.range['end']), text = edit.newText }
  end
  -- From the end backwards, so earlier offsets stay valid; same start: later edits first (LSP order).
  table.sort(ordered, function(a, b)
    if a.first ~= b.first then
      return a.first > b.first
    end
    return a.index > b.index
  end)
  for _, edit in ipairs(ordered) do
    text = text:sub(1, edit.first - 1) .. edit.text .. text:sub(edit.last)
  end
  return text
end

--- The files an edit touches, in order, with their text before and after.
--- @return {fname: string, old: string|nil, new: string|nil, rename_to: string|nil}[]
function M.file_changes(edit, encoding)
  local files, by_name = {}, {}
  local function entry(fname)
    if not by_name[fname] then
      by_name[fname] = { fname = fname, old = current_text(fname) }
      by_name[fname].new = by_name[fname].old
      files[#files + 1] = by_name[fname]
    end
    return by_name[fname]
  end
  local function text_edits(uri, edits)
    local file = entry(vim.uri_to_fname(uri))
    file.new = M.apply_text_edits(file.new or '', edits, encoding)
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.kind == 'create' then
      local file = entry(vim.uri_to_fname(change.uri))
      if file.old == nil or not (change.options and change.options.ignoreIfExists) then
        file.old, file.new = nil, ''
      end
    elseif change.kind == 'delete' then
      entry(vim.uri_to_fname(change.uri)).new = nil
    elseif change.kind == 'rename' then
      entry(vim.uri_to_fname(change.oldUri)).rename_to = vim.uri_to_fname(change.newUri)
    elseif change.textDocument then
      text_edits(change.textDocument.uri, change.edits)
    end
  end
  for uri, edits in pairs(edit.changes or {}) do
    text_edits(uri, edits)
  end
  return files
end

--- ``fname`` relative to ``root`` when inside it (vim.fs.relpath is 0.11+).
local function relative(root, fname)
  if root then
    local prefix = vim.fs.normalize(root) .. '/'
    fname = vim.fs.normalize(fname)
    if fname:sub(1, #prefix) == prefix then
      return fname:sub(#prefix + 1)
    end
  end
  return fname
end

--- The preview's lines: a header with the keys (and a line per warning), then one unified-diff section
--- per file.
--- @param files table from M.file_changes
--- @param warnings string[]|nil from M.warnings
--- @return string[]
function M.render(files, root, label, warnings)
  local keys = config.values.preview.keys
  local lines = {
    '# ' .. ((label or ''):find('^codegen') and label or ('codegen: ' .. (label or 'proposed change'))),
  }
  for _, warning in ipairs(warnings or {}) do
    lines[#lines + 1] = '# ⚠ ' .. warning
  end
  lines[#lines + 1] = ('# %s: accept and write the files   %s: reject   ]f / [f: next / previous file')
    :format(keys.accept, keys.reject)
  lines[#lines + 1] = ''
  for _, file in ipairs(files) do
    local path = relative(root, file.fname)
    local new_path = file.rename_to and relative(root, file.rename_to)
    lines[#lines + 1] = ('diff --git a/%s b/%s'):format(path, new_path or path)
    if file.old == nil then
      lines[#lines + 1] = 'new file'
    elseif file.new == nil then
      lines[#lines + 1] = 'deleted file'
    elseif new_path then
      lines[#lines + 1] = ('rename to %s'):format(new_path)
    end
    lines[#lines + 1] = file.old == nil and '--- /dev/null' or ('--- a/' .. path)
    lines[#lines + 1] = file.new == nil and '+++ /dev/null' or ('+++ b/' .. (new_path or path))
    local hunks = text_diff(file.old or '', file.new or '', { result_type = 'unified', ctxlen = 3 })
    for _, line in ipairs(vim.split(hunks, '\n', { plain = true, trimempty = true })) do
      lines[#lines + 1] = line
    end
  end
  return lines
end

--- A copy of the edit without change annotations, so applying it does not ask again
--- (Neovim 0.12 confirms annotated edits with its own prompt).
local function without_annotations(edit)
  local copy = vim.deepcopy(edit)
  copy.changeAnnotations = nil
  for _, change in ipairs(copy.documentChanges or {}) do
    change.annotationId = nil
    for _, text_edit in ipairs(change.edits or {}) do
      text_edit.annotationId = nil
    end
  end
  for _, edits in pairs(copy.changes or {}) do
    for _, text_edit in ipairs(edits) do
      text_edit.annotationId = nil
    end
  end
  return copy
end

--- A document the user typed into after the daemon computed the edit (Neovim would skip it silently).
local function stale_document(edit)
  for _, change in ipairs(edit.documentChanges or {}) do
    local doc = change.textDocument
    if doc and type(doc.version) == 'number' then
      local bufnr = loaded_buffer(vim.uri_to_fname(doc.uri))
      -- Only an attached buffer has a version (from 0 at didOpen; Neovim's own check skips 0).
      local version = bufnr and rawget(vim.lsp.util.buf_versions, bufnr)
      if type(version) == 'number' and version > doc.version then
        return vim.uri_to_fname(doc.uri)
      end
    end
  end
  return nil
end

--- Make the buffer hold ``expected`` (in the same undo step). Neovim's apply_text_edits leaves an extra
--- empty last line when text ending in a newline is inserted at the end of a buffer (every new file).
local function reconcile(bufnr, expected)
  if expected ~= '' and expected:sub(-1) ~= '\n' then
    -- The change leaves the file without a final newline: writing must not add one ('fixeol').
    vim.bo[bufnr].eol, vim.bo[bufnr].fixeol = false, false
  end
  local actual = buffer_text(bufnr, true)
  if actual == expected then
    return
  end
  vim.api.nvim_buf_call(bufnr, function()
    pcall(vim.cmd, 'undojoin')
  end)
  if actual == expected .. '\n' then
    vim.api.nvim_buf_set_lines(bufnr, -2, -1, false, {})
  else
    local lines = vim.split(expected, '\n', { plain = true })
    local eol = #lines > 1 and lines[#lines] == ''
    if eol then
      table.remove(lines)
    end
    vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
    vim.bo[bufnr].eol = eol
  end
end

--- Apply the edit through Neovim (per-buffer undo works), then write the buffers it touched.
--- @return lsp.ApplyWorkspaceEditResult
function M.apply(edit, encoding)
  local stale = stale_document(edit)
  if stale then
    return { applied = false, failureReason = ('%s changed after the change was computed'):format(stale) }
  end
  -- What each file must hold afterwards, from the text as it is now (the user may have typed meanwhile).
  local files = M.file_changes(edit, encoding)
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, without_annotations(edit), encoding)
  if not ok then
    return { applied = false, failureReason = tostring(err) }
  end
  local failed = {}
  for _, file in ipairs(files) do
    local fname = file.rename_to or file.fname
    local bufnr = loaded_buffer(fname)
    if file.new ~= nil and bufnr then
      reconcile(bufnr, file.new)
      if vim.bo[bufnr].modified then
        local wrote, write_err = pcall(vim.api.nvim_buf_call, bufnr, function()
          vim.cmd('silent write')
        end)
        if not wrote then
          failed[#failed + 1] = ('%s: %s'):format(fname, write_err)
        end
      end
    end
  end
  if #failed > 0 then
    vim.notify('codegen: applied, but could not write:\n' .. table.concat(failed, '\n'), vim.log.levels.WARN,
      { title = 'codegen' })
  end
  return { applied = true }
end

local function jump(bufnr, direction)
  local flags = direction > 0 and 'W' or 'bW'
  vim.api.nvim_buf_call(bufnr, function()
    vim.fn.search('^diff --git ', flags)
  end)
end

--- Open the preview and call ``decide(accepted)`` once the user accepts, rejects or closes it.
--- @param lines string[]
--- @param decide fun(accepted: boolean)
--- @param client_id integer|nil the client whose daemon asked (its exit rejects the preview)
--- @param warnings string[]|nil accepting asks once more when there are any (files that run code)
--- @return integer bufnr
function M.open(lines, decide, client_id, warnings)
  local opts = config.values.preview
  preview_count = preview_count + 1
  vim.cmd(('%s %dnew'):format(opts.split, opts.height))
  local bufnr = vim.api.nvim_get_current_buf()
  local bo = vim.bo[bufnr]
  bo.buftype, bo.bufhidden, bo.swapfile, bo.buflisted = 'nofile', 'wipe', false, false
  vim.api.nvim_buf_set_name(bufnr, ('codegen://preview/%d'):format(preview_count))
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  bo.modifiable, bo.modified, bo.filetype = false, false, 'diff'

  local decided = false
  local function finish(accepted)
    if decided then
      return
    end
    decided = true
    open_previews[bufnr] = nil
    if vim.api.nvim_buf_is_valid(bufnr) then
      vim.api.nvim_buf_delete(bufnr, { force = true })
    end
    decide(accepted)
  end
  local map = function(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = bufnr, nowait = true, silent = true, desc = desc })
  end
  open_previews[bufnr] = { finish = finish, client_id = client_id }
  map(opts.keys.accept, function()
    if warnings and #warnings > 0 then
      local question = 'codegen: this change writes files that can run code:\n' .. table.concat(warnings, '\n')
        .. '\nApply it anyway?'
      if vim.fn.confirm(question, '&Apply anyway\n&Back to the preview', 2, 'Warning') ~= 1 then
        return
      end
    end
    finish(true)
  end, 'codegen: accept the change')
  map(opts.keys.reject, function() finish(false) end, 'codegen: reject the change')
  map(']f', function() jump(bufnr, 1) end, 'codegen: next file')
  map('[f', function() jump(bufnr, -1) end, 'codegen: previous file')
  -- Closing the preview any other way (:q, :bwipe) rejects the change.
  vim.api.nvim_create_autocmd('BufWipeout', { buffer = bufnr, once = true, callback = function()
    vim.schedule(function() finish(false) end)
  end })
  return bufnr
end

--- Reject every open preview (:CodegenCancel), or those of one client (its daemon exited: accepting
--- would write a change nobody records or can undo).
--- @param client_id integer|nil
--- @return integer count
function M.reject_all(client_id)
  local count = 0
  for _, entry in pairs(open_previews) do
    if client_id == nil or entry.client_id == client_id then
      entry.finish(false)
      count = count + 1
    end
  end
  return count
end

--- The `workspace/applyEdit` handler: preview first when the daemon asks for confirmation.
--- Runs in the coroutine Neovim's RPC layer gives server requests, so it can wait for the user.
--- @param params lsp.ApplyWorkspaceEditParams
--- @param ctx lsp.HandlerContext
function M.handler(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local encoding = client and client.offset_encoding or 'utf-16'
  local edit = params.edit or {}
  if next(require('codegen.client').running) == nil then
    -- Only a command of ours asks for edits; with none running, this one outlived a cancel
    -- (a `$/cancelRequest` the daemon received before the command started).
    return { applied = false, failureReason = 'no codegen command is running in Neovim (it was cancelled)' }
  end
  if not needs_confirmation(edit) then
    return M.apply(edit, encoding)
  end
  local warnings = M.warnings(edit)
  local lines = M.render(M.file_changes(edit, encoding), client and client.root_dir, change_label(params, edit),
    warnings)

  local co, is_main = coroutine.running()
  local accepted
  if co and not is_main then
    M.open(lines, function(decision)
      vim.schedule(function()
        coroutine.resume(co, decision)
      end)
    end, ctx.client_id, warnings)
    accepted = coroutine.yield()
  else
    -- No coroutine to wait in (never the case on 0.10+'s RPC layer): ask in the command line.
    accepted = vim.fn.confirm(table.concat(lines, '\n'), '&Accept\n&Reject', 2) == 1
  end
  if not accepted then
    return { applied = false, failureReason = DECLINED }
  end
  return M.apply(edit, encoding)
end

return M
