--- `workspace/applyEdit` with a preview: the daemon's edits are shown as a unified diff (one section per
--- file) in a scratch buffer, and nothing changes until the user accepts.
local config = require('codegen.config')

local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1
-- LSP's null document version ("not versioned") as this Neovim's apply_text_document_edit takes it:
-- 0.12 compares it with vim.NIL (a nil would reach `nil > 0`); 0.10 and 0.11 test it for truth,
-- and vim.NIL, a userdata, would reach `> 0` there.
local NULL_VERSION = vim.fn.has('nvim-0.12') == 1 and vim.NIL or nil
local text_diff = (vim.text and vim.text.diff) or vim.diff

local DECLINED = 'the change was declined in the preview'
local preview_count = 0

--- Does any change annotation of the edit ask for confirmation?
local function needs_confirmation(edit)
  for _, annotation in pairs(edit.changeAnnotations or {}) do
    if annotation.needsConfirmation then
      return true
    end
  end
  return false
end

--- The annotation of the change as a whole: its label names the run, its description carries the
--- model's explanation (or the fix loop's diagnosis). The others are warnings about files that run code.
local MAIN_ANNOTATION = 'codegen'

--- The warnings the daemon attached to the edit: a file that makes an editor, a shell or git run code
--- gets a change annotation of its own. Their labels, in a stable order.
--- @return string[]
function M.warnings(edit)
  local ids = {}
  for id, annotation in pairs(edit.changeAnnotations or {}) do
    if id ~= MAIN_ANNOTATION and type(annotation.description) == 'string' and annotation.description ~= '' then
      ids[#ids + 1] = id
    end
  end
  table.sort(ids)
  return vim.tbl_map(function(id)
    local annotation = edit.changeAnnotations[id]
    return type(annotation.label) == 'string' and annotation.label or annotation.description
  end, ids)
end

--- The model's explanation or diagnosis of the change (the main annotation's description), if any.
--- @return string|nil
function M.explanation(edit)
  local main = (edit.changeAnnotations or {})[MAIN_ANNOTATION]
  local text = type(main) == 'table' and main.description
  return type(text) == 'string' and text:find('%S') and vim.trim(text) or nil
end

--- The label of the change as a whole: the request's, else the main annotation's.
local function change_label(params, edit)
  if params.label then
    return params.label
  end
  local main = (edit.changeAnnotations or {})[MAIN_ANNOTATION]
  return type(main) == 'table' and main.label or nil
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

--- The files an edit touches, in order, with their text before and after, and the parts of the edit
--- that touch each (so one file's change can be applied alone).
--- @return {fname: string, old: string|nil, new: string|nil, rename_to: string|nil, ops: table[], whole: boolean}[]
function M.file_changes(edit, encoding)
  local files, by_name = {}, {}
  local function entry(fname)
    if not by_name[fname] then
      by_name[fname] = { fname = fname, old = current_text(fname), ops = {}, whole = false }
      by_name[fname].new = by_name[fname].old
      files[#files + 1] = by_name[fname]
    end
    return by_name[fname]
  end
  local function text_edits(uri, edits, op)
    local file = entry(vim.uri_to_fname(uri))
    file.new = M.apply_text_edits(file.new or '', edits, encoding)
    table.insert(file.ops, op)
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.kind == 'create' then
      local file = entry(vim.uri_to_fname(change.uri))
      if file.old == nil or not (change.options and change.options.ignoreIfExists) then
        file.old, file.new = nil, ''
      end
      file.whole = true
      table.insert(file.ops, change)
    elseif change.kind == 'delete' then
      local file = entry(vim.uri_to_fname(change.uri))
      file.new, file.whole = nil, true
      table.insert(file.ops, change)
    elseif change.kind == 'rename' then
      local file = entry(vim.uri_to_fname(change.oldUri))
      file.rename_to, file.whole = vim.uri_to_fname(change.newUri), true
      table.insert(file.ops, change)
      -- Edits after the rename name the new path: they belong to this file's change too.
      by_name[file.rename_to] = file
    elseif change.textDocument then
      text_edits(change.textDocument.uri, change.edits, change)
    end
  end
  for uri, edits in pairs(edit.changes or {}) do
    text_edits(uri, edits, { textDocument = { uri = uri, version = NULL_VERSION }, edits = edits })
  end
  if files[1] and (edit.changes and next(edit.changes)) then
    -- `changes` has no order; a stable one for the preview.
    table.sort(files, function(x, y) return x.fname < y.fname end)
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

--- The keys line of the preview's header.
local function keys_help()
  local k = config.values.preview.keys
  return ('# %s accept all, %s reject all   %s / %s accept / reject this hunk   %s / %s next / previous hunk   '
    .. ']f / [f file'):format(k.accept, k.reject, k.accept_hunk, k.reject_hunk, k.next_hunk, k.prev_hunk)
end

--- @class codegen.Hunk one unit of review: a hunk of a changed file, or the whole of a created, deleted
--- or renamed file
--- @field file table an entry of M.file_changes
--- @field line integer its header line in the preview (1-based)
--- @field old_start integer, old_count integer, new_start integer, new_count integer from its @@ header
--- @field state 'pending'|'accepted'|'rejected'

--- The preview's lines: a header (the run, the model's explanation, warnings, the keys), then one
--- unified-diff section per file. Also the hunks, each with its header line.
--- @param files table from M.file_changes
--- @param warnings string[]|nil from M.warnings
--- @param explanation string|nil from M.explanation
--- @return string[] lines
--- @return codegen.Hunk[] hunks
function M.render(files, root, label, warnings, explanation)
  local lines = {
    '# ' .. ((label or ''):find('^codegen') and label or ('codegen: ' .. (label or 'proposed change'))),
  }
  for _, line in ipairs(explanation and vim.split(explanation, '\n', { plain = true }) or {}) do
    lines[#lines + 1] = ('# %s'):format(line):gsub('%s+$', '')
  end
  for _, warning in ipairs(warnings or {}) do
    lines[#lines + 1] = '# ⚠ ' .. warning
  end
  lines[#lines + 1] = keys_help()
  lines[#lines + 1] = ''
  local hunks = {}
  for _, file in ipairs(files) do
    local path = relative(root, file.fname)
    local new_path = file.rename_to and relative(root, file.rename_to)
    lines[#lines + 1] = ('diff --git a/%s b/%s'):format(path, new_path or path)
    local whole_file
    if file.whole then
      -- Created, deleted or renamed: accepted or rejected as one.
      whole_file = { file = file, line = #lines, state = 'pending' }
      hunks[#hunks + 1] = whole_file
    end
    if file.old == nil then
      lines[#lines + 1] = 'new file'
    elseif file.new == nil then
      lines[#lines + 1] = 'deleted file'
    elseif new_path then
      lines[#lines + 1] = ('rename to %s'):format(new_path)
    end
    lines[#lines + 1] = file.old == nil and '--- /dev/null' or ('--- a/' .. path)
    lines[#lines + 1] = file.new == nil and '+++ /dev/null' or ('+++ b/' .. (new_path or path))
    local diff = text_diff(file.old or '', file.new or '', { result_type = 'unified', ctxlen = 3 })
    for _, line in ipairs(vim.split(diff, '\n', { plain = true, trimempty = true })) do
      lines[#lines + 1] = line
      local a, b, c, d = line:match('^@@ %-(%d+),?(%d*) %+(%d+),?(%d*) @@')
      if a and not whole_file then
        hunks[#hunks + 1] = { file = file, line = #lines, state = 'pending', old_start = tonumber(a),
          old_count = tonumber(b ~= '' and b or '1'), new_start = tonumber(c), new_count = tonumber(d ~= '' and d or '1') }
      end
    end
  end
  return lines, hunks
end

--- Lines of ``text`` with their endings ("a\nb" -> {"a\n", "b"}).
local function lines_with_endings(text)
  local out = {}
  for line in (text or ''):gmatch('[^\n]*\n?') do
    if line ~= '' then
      out[#out + 1] = line
    end
  end
  return out
end

--- The edit that applies one hunk to its file as the file is now: ``shift`` lines were added (or
--- removed, when negative) above it by the hunks of the file accepted before.
local function hunk_edit(hunk, shift)
  local file = hunk.file
  if hunk.old_start == nil then
    return { documentChanges = vim.deepcopy(file.ops) }
  end
  -- "-a,0" inserts after line a; "-a,n" replaces from line a (1-based).
  local first = (hunk.old_count == 0 and hunk.old_start or hunk.old_start - 1) + shift
  local new_lines = lines_with_endings(file.new)
  local text = table.concat(new_lines, '', hunk.new_start, hunk.new_start + hunk.new_count - 1)
  if hunk.new_count == 0 then
    text = ''
  end
  return { documentChanges = { {
    textDocument = { uri = vim.uri_from_fname(file.fname), version = NULL_VERSION },
    edits = { { range = { start = { line = first, character = 0 },
      ['end'] = { line = first + hunk.old_count, character = 0 } }, newText = text } },
  } } }
end

--- A copy of the edit for Neovim's apply_workspace_edit: without change annotations, so applying it
--- does not ask again (Neovim 0.12 confirms annotated edits with its own prompt), and with a null
--- document version as this Neovim takes it (its LSP client decodes JSON null as vim.NIL from 0.12 on,
--- as nil before; an edit built or decoded the other way would fail there).
local function for_neovim(edit)
  local copy = vim.deepcopy(edit)
  copy.changeAnnotations = nil
  for _, change in ipairs(copy.documentChanges or {}) do
    if change.textDocument and (change.textDocument.version == nil or change.textDocument.version == vim.NIL) then
      change.textDocument.version = NULL_VERSION
    end
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
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, for_neovim(edit), encoding)
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


--- Time of the last key the user typed (the idle check before entering a preview).
local last_key = vim.uv.now()
local on_key_ns

local function watch_keys()
  if not on_key_ns then
    on_key_ns = vim.api.nvim_create_namespace('codegen.preview.keys')
    vim.on_key(function()
      last_key = vim.uv.now()
    end, on_key_ns)
  end
end

--- Open a window on ``bufnr`` as `preview.split` says; the cursor moves into it only when ``enter``.
--- "tab" has no window until entered.
local function show(bufnr, enter)
  local opts = config.values.preview
  local where = config.SPLITS[opts.split] or config.SPLITS.botright
  if where.tab then
    if not enter then
      return nil
    end
    vim.cmd('tab sbuffer ' .. bufnr)
    return vim.api.nvim_get_current_win()
  end
  local win_config = { split = where.split, win = where.win == 0 and vim.api.nvim_get_current_win() or -1 }
  if where.vertical then
    win_config.width = opts.width
  else
    win_config.height = opts.height
  end
  local win = vim.api.nvim_open_win(bufnr, enter, win_config)
  vim.wo[win].foldenable, vim.wo[win].wrap = false, false
  return win
end

--- The preview's window in the current tab page, if any.
local function window_of(bufnr)
  local win = vim.fn.bufwinid(bufnr)
  return win ~= -1 and win or nil
end

--- Open previews: bufnr -> {finish, client_id, enter}.
--- @type table<integer, {finish: fun(verdict: table), client_id: integer|nil, enter: fun()}>
local open_previews = {}

--- Is a preview waiting for the user?
--- @return boolean
function M.is_open()
  return next(open_previews) ~= nil
end

--- Move the cursor into the open preview (:CodegenPreview); false when there is none.
--- @return boolean
function M.enter()
  local newest
  for bufnr in pairs(open_previews) do
    if not newest or bufnr > newest then
      newest = bufnr
    end
  end
  if not newest then
    return false
  end
  open_previews[newest].enter()
  return true
end

--- The hunk whose lines hold line ``lnum`` (1-based), if any.
local function hunk_at(hunks, lnum)
  local found
  for _, hunk in ipairs(hunks) do
    if hunk.line <= lnum then
      found = hunk
    end
  end
  return found
end

--- Show each decided hunk's verdict at the end of its header line.
local function mark(bufnr, hunks, lines)
  local shown = vim.deepcopy(lines)
  for _, hunk in ipairs(hunks) do
    if hunk.state ~= 'pending' then
      shown[hunk.line] = shown[hunk.line] .. '   [' .. hunk.state .. ']'
    end
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, shown)
  vim.bo[bufnr].modifiable, vim.bo[bufnr].modified = false, false
end

--- Open the preview without moving the cursor into it. ``decide`` gets the verdict once the user is done:
--- `{all = true}` (accept the whole edit; nothing was written yet) or `{applied = boolean}` (hunks were
--- accepted one by one and are written already: whether any was).
--- @param lines string[]
--- @param hunks codegen.Hunk[] from M.render
--- @param decide fun(verdict: {all: boolean|nil, applied: boolean|nil})
--- @param client_id integer|nil the client whose daemon asked (its exit rejects the preview)
--- @param warnings string[]|nil accepting asks once more when there are any (files that run code)
--- @param encoding string|nil the client's position encoding
--- @return integer bufnr
function M.open(lines, hunks, decide, client_id, warnings, encoding)
  local opts = config.values.preview
  preview_count = preview_count + 1
  local bufnr = vim.api.nvim_create_buf(false, true)
  local bo = vim.bo[bufnr]
  bo.bufhidden, bo.swapfile = 'wipe', false
  vim.api.nvim_buf_set_name(bufnr, ('codegen://preview/%d'):format(preview_count))
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  bo.modifiable, bo.modified, bo.filetype = false, false, 'diff'

  local decided, confirmed, timer = false, not (warnings and #warnings > 0), nil
  local function finish(verdict)
    if decided then
      return
    end
    decided = true
    open_previews[bufnr] = nil
    if timer and not timer:is_closing() then
      timer:stop()
      timer:close()
    end
    if vim.api.nvim_buf_is_valid(bufnr) then
      vim.api.nvim_buf_delete(bufnr, { force = true })
    end
    vim.cmd.redrawstatus()
    decide(verdict)
  end
  local function enter()
    local win = window_of(bufnr) or show(bufnr, true)
    vim.api.nvim_set_current_win(win)
  end
  --- Files that run code: accepting anything asks once more.
  local function confirm()
    if not confirmed then
      local question = 'codegen: this change writes files that can run code:\n' .. table.concat(warnings, '\n')
        .. '\nApply it anyway?'
      confirmed = vim.fn.confirm(question, '&Apply anyway\n&Back to the preview', 2, 'Warning') == 1
    end
    return confirmed
  end
  local function any(state)
    for _, hunk in ipairs(hunks) do
      if hunk.state == state then
        return true
      end
    end
    return false
  end
  --- Write one hunk now; it moves by what the accepted hunks above it in its file added or removed.
  local function accept_hunk(hunk)
    local shift = 0
    for _, other in ipairs(hunks) do
      if other.file == hunk.file and other.state == 'accepted' and other.old_start
          and other.old_start < hunk.old_start then
        shift = shift + other.new_count - other.old_count
      end
    end
    local result = M.apply(hunk_edit(hunk, shift), encoding or 'utf-16')
    if not result.applied then
      vim.notify('codegen: the hunk was not applied: ' .. tostring(result.failureReason), vim.log.levels.WARN,
        { title = 'codegen' })
      return false
    end
    hunk.state = 'accepted'
    return true
  end
  local function next_pending(from, direction)
    local first, last, step = 1, #hunks, 1
    if direction < 0 then
      first, last, step = #hunks, 1, -1
    end
    for i = first, last, step do
      local hunk = hunks[i]
      if hunk.state == 'pending' and ((direction > 0 and hunk.line > from) or (direction < 0 and hunk.line < from)) then
        return hunk
      end
    end
    return nil
  end
  local function jump_hunk(direction)
    local lnum = vim.api.nvim_win_get_cursor(0)[1]
    local hunk = next_pending(lnum, direction)
    if hunk then
      vim.api.nvim_win_set_cursor(0, { hunk.line, 0 })
    end
  end
  local function on_hunk(accepting)
    local lnum = vim.api.nvim_win_get_cursor(0)[1]
    local hunk = hunk_at(hunks, lnum)
    if not hunk or hunk.state ~= 'pending' then
      hunk = next_pending(lnum, 1)
    end
    if not hunk then
      return
    end
    if accepting then
      if not confirm() or not accept_hunk(hunk) then
        return
      end
    else
      hunk.state = 'rejected'
    end
    if not any('pending') then
      finish({ applied = any('accepted') })
      return
    end
    mark(bufnr, hunks, lines)
    local following = next_pending(hunk.line, 1) or next_pending(hunk.line, -1)
    local win = window_of(bufnr)
    if following and win then
      vim.api.nvim_win_set_cursor(win, { following.line, 0 })
    end
  end

  local map = function(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = bufnr, silent = true, desc = desc })
  end
  open_previews[bufnr] = { finish = finish, client_id = client_id, enter = enter }
  local keys = opts.keys
  map(keys.accept, function()
    if not confirm() then
      return
    end
    if not any('accepted') and not any('rejected') then
      finish({ all = true })
      return
    end
    for _, hunk in ipairs(hunks) do
      if hunk.state == 'pending' then
        accept_hunk(hunk)
      end
    end
    finish({ applied = true })
  end, 'codegen: accept every pending hunk')
  map(keys.reject, function() finish({ applied = any('accepted') }) end, 'codegen: reject every pending hunk')
  map(keys.accept_hunk, function() on_hunk(true) end, 'codegen: accept this hunk (written at once)')
  map(keys.reject_hunk, function() on_hunk(false) end, 'codegen: reject this hunk')
  map(keys.next_hunk, function() jump_hunk(1) end, 'codegen: next pending hunk')
  map(keys.prev_hunk, function() jump_hunk(-1) end, 'codegen: previous pending hunk')
  map(']f', function() vim.fn.search('^diff --git ', 'W') end, 'codegen: next file')
  map('[f', function() vim.fn.search('^diff --git ', 'bW') end, 'codegen: previous file')
  -- Closing the preview any other way (:q, :bwipe) rejects what is still pending.
  vim.api.nvim_create_autocmd('BufWipeout', { buffer = bufnr, once = true, callback = function()
    vim.schedule(function() finish({ applied = any('accepted') }) end)
  end })

  local win = show(bufnr, false)
  if win and hunks[1] then
    vim.api.nvim_win_set_cursor(win, { hunks[1].line, 0 })
  end
  if opts.enter_when_idle then
    -- Enter once the user has typed nothing for 'updatetime' in normal mode: never while typing in
    -- insert mode or a command line, so no keystroke meant elsewhere lands in the preview.
    watch_keys()
    local opened = vim.uv.now()
    timer = assert(vim.uv.new_timer())
    timer:start(100, 100, vim.schedule_wrap(function()
      if decided or timer:is_closing() then
        return
      end
      local idle = vim.uv.now() - math.max(last_key, opened)
      if idle >= vim.o.updatetime and vim.api.nvim_get_mode().mode == 'n' and vim.fn.getcmdwintype() == '' then
        timer:stop()
        timer:close()
        if vim.api.nvim_get_current_buf() ~= bufnr then
          enter()
        end
      end
    end))
  end
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
      entry.finish({ applied = false })
      count = count + 1
    end
  end
  return count
end

--- The files of the last review none of whose hunks was accepted, workspace-relative (see take_rejected).
local rejected = {}

--- The files rejected whole in the last review whose other files were accepted, then forgotten: the
--- daemon hears only "applied", so the outcome message learns them here.
--- @return string[]
function M.take_rejected()
  local taken = rejected
  rejected = {}
  return taken
end

--- Files none of whose hunks was accepted.
local function rejected_files(hunks, root)
  local accepted, seen, out = {}, {}, {}
  for _, hunk in ipairs(hunks) do
    if hunk.state == 'accepted' then
      accepted[hunk.file] = true
    end
  end
  for _, hunk in ipairs(hunks) do
    if not accepted[hunk.file] and not seen[hunk.file] then
      seen[hunk.file] = true
      out[#out + 1] = relative(root, hunk.file.fname)
    end
  end
  return out
end

--- The `workspace/applyEdit` handler: preview first when the daemon asks for confirmation.
--- Runs in the coroutine Neovim's RPC layer gives server requests, so it can wait for the user.
--- @param params lsp.ApplyWorkspaceEditParams
--- @param ctx lsp.HandlerContext
function M.handler(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local encoding = client and client.offset_encoding or 'utf-16'
  local edit = params.edit or {}
  rejected = {}
  if next(require('codegen.client').running) == nil then
    -- Only a command of ours asks for edits; with none running, this one outlived a cancel
    -- (a `$/cancelRequest` the daemon received before the command started).
    return { applied = false, failureReason = 'no codegen command is running in Neovim (it was cancelled)' }
  end
  if not needs_confirmation(edit) then
    return M.apply(edit, encoding)
  end
  local warnings = M.warnings(edit)
  local lines, hunks = M.render(M.file_changes(edit, encoding), client and client.root_dir,
    change_label(params, edit), warnings, M.explanation(edit))

  local co, is_main = coroutine.running()
  local verdict
  if co and not is_main then
    M.open(lines, hunks, function(decision)
      vim.schedule(function()
        coroutine.resume(co, decision)
      end)
    end, ctx.client_id, warnings, encoding)
    verdict = coroutine.yield()
  else
    -- No coroutine to wait in (never the case on 0.10+'s RPC layer): ask in the command line.
    verdict = { all = vim.fn.confirm(table.concat(lines, '\n'), '&Accept\n&Reject', 2) == 1 }
  end
  if verdict.all then
    return M.apply(edit, encoding)
  end
  if verdict.applied then
    -- Hunks were accepted one by one, and are written already.
    rejected = rejected_files(hunks, client and client.root_dir)
    return { applied = true }
  end
  return { applied = false, failureReason = DECLINED }
end

return M
