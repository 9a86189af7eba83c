-- What the specs share: the repo's venv, the scripted model, a workspace per case, and ways to
-- watch what the user would see (notifications, the preview) and answer prompts.
local H = {}

local spec_dir = vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, 'S').source:sub(2)))
H.plugin_dir = vim.fs.dirname(spec_dir)
H.repo = vim.fs.dirname(vim.fs.dirname(H.plugin_dir))
H.python = vim.env.CODEGEN_TEST_PYTHON or (H.repo .. '/.venv/bin/python')
H.daemon = vim.env.CODEGEN_TEST_SERVER or (H.repo .. '/.venv/bin/codegen-server')

local state = {}

--- Wait until ``predicate()`` holds; fail with ``what`` after ``timeout_ms``.
function H.wait(what, predicate, timeout_ms)
  local ok = vim.wait(timeout_ms or 20000, predicate, 20)
  if not ok then
    error(('timed out waiting for %s\nnotifications so far:\n%s'):format(what, H.notifications_text()), 2)
  end
end

--- Run a Python snippet in the repo (the suite's own test data lives in Python); returns stdout.
function H.py(code)
  local done = vim.system({ H.python, '-c', code }, { cwd = H.repo, text = true }):wait(60000)
  if done.code ~= 0 then
    error(('python failed (%d): %s'):format(done.code, done.stderr), 2)
  end
  return done.stdout
end

--- A string constant from a module of the test suite, e.g. H.constant('tests.support.answers', 'CALC_PROJECT').
function H.constant(module, name)
  return H.py(('import sys\nfrom %s import %s as v\nsys.stdout.write(v if isinstance(v, str) else '
    .. '__import__("json").dumps(v))'):format(module, name))
end

function H.read(path)
  local file = io.open(path, 'rb')
  if not file then
    return nil
  end
  local text = file:read('*a')
  file:close()
  return text
end

function H.write(path, text)
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  local file = assert(io.open(path, 'wb'))
  file:write(text)
  file:close()
end

--- A fresh empty workspace folder (with a .git marker), made the current directory.
function H.workspace()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/.git', 'p')
  dir = vim.uv.fs_realpath(dir)
  state.previous_cwd = vim.fn.getcwd()
  vim.cmd.cd(vim.fn.fnameescape(dir))
  state.workspace = dir
  return dir
end

--- Files of a workspace, outside .git and .codegen, as workspace-relative paths.
function H.files(dir)
  local found = {}
  for name, kind in vim.fs.dir(dir, { depth = 10, skip = function(n)
    return n ~= '.git' and n ~= '.codegen' and n ~= '__pycache__' and n ~= '.pytest_cache'
  end }) do
    if kind == 'file' then
      found[#found + 1] = name
    end
  end
  table.sort(found)
  return found
end

--- Start the scripted model on 127.0.0.1 with ``steps`` (ScriptStep fields, plus `when`) and point
--- codegen at it through the environment the daemon inherits.
function H.model(steps)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  local script, log = dir .. '/script.json', dir .. '/requests.jsonl'
  H.write(script, vim.json.encode(steps))
  local url
  local proc = vim.system({ H.python, '-m', 'tests.support.serve_scripted_model', script, '--requests-log', log },
    {
      cwd = H.repo,
      stdout = function(_, data)
        local found = data and data:match('OPENAI_BASE_URL=(%S+)')
        if found then
          url = found
        end
      end,
    })
  state.model = proc
  H.wait('the scripted model to start', function() return url ~= nil end, 30000)
  vim.env.OPENAI_BASE_URL = url
  vim.env.CODEGEN_MODEL = 'scripted-model'
  return {
    url = url,
    --- Every request body the model received, in order.
    requests = function()
      local bodies = {}
      for line in (H.read(log) or ''):gmatch('[^\n]+') do
        bodies[#bodies + 1] = vim.json.decode(line)
      end
      return bodies
    end,
  }
end

--- The text of a model request's messages.
function H.request_text(body)
  local parts = {}
  for _, message in ipairs(body.messages or {}) do
    parts[#parts + 1] = tostring(message.content)
  end
  return table.concat(parts, '\n')
end

--- Record every vim.notify (vim.notify is the documented place for a UI to take messages over).
function H.capture_notify()
  state.notify = state.notify or vim.notify
  H.notifications = {}
  vim.notify = function(message, level)
    table.insert(H.notifications, { message = message, level = level or vim.log.levels.INFO })
  end
end

function H.notifications_text()
  local lines = {}
  for _, n in ipairs(H.notifications or {}) do
    lines[#lines + 1] = ('[%d] %s'):format(n.level, n.message)
  end
  return table.concat(lines, '\n')
end

--- Wait for a notification containing ``text``; returns it.
function H.wait_notify(text, timeout_ms)
  local found
  H.wait(('a notification containing %q'):format(text), function()
    for _, n in ipairs(H.notifications) do
      if n.message:find(text, 1, true) then
        found = n
        return true
      end
    end
    return false
  end, timeout_ms)
  return found
end

--- In ``H.answer_inputs``' list: the user pressed <Esc> at that prompt.
H.ESC = {}

--- Answer vim.ui.input prompts with ``answers`` in order (as a UI plugin replacing it would); records prompts.
function H.answer_inputs(answers)
  state.input = state.input or vim.ui.input
  H.prompts = {}
  local queue = vim.list_extend({}, answers) -- not deepcopy: H.ESC is matched by identity
  vim.ui.input = function(opts, on_confirm)
    table.insert(H.prompts, opts.prompt)
    local answer = table.remove(queue, 1)
    if answer == H.ESC then
      answer = nil
    end
    vim.schedule(function() on_confirm(answer) end)
  end
end

--- Answer vim.ui.select prompts with the item whose text is each of ``choices`` in order; records prompts.
function H.answer_selects(choices)
  state.select = state.select or vim.ui.select
  H.select_prompts = {}
  local queue = vim.deepcopy(choices)
  vim.ui.select = function(items, opts, on_choice)
    table.insert(H.select_prompts, opts.prompt)
    local wanted = table.remove(queue, 1)
    local index = wanted and vim.fn.index(items, wanted) + 1 or 0
    vim.schedule(function() on_choice(index > 0 and items[index] or nil, index > 0 and index or nil) end)
  end
end

--- Each case of the enclosing describe records notifications and ends with H.cleanup().
function H.per_case()
  before_each(H.capture_notify)
  after_each(H.cleanup)
end

--- Edit a workspace file and wait until the daemon has it (attached and initialized); returns the buffer.
--- A file of a language codegen does not index starts no daemon: one is started as a command would.
function H.open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  if not vim.tbl_contains(require('codegen.config').INDEXED_FILETYPES, vim.bo[buf].filetype) then
    require('codegen.async').run(function()
      local client = require('codegen.client')
      client.ensure(client.current_root())
    end)
  end
  H.wait('the daemon to attach to ' .. path, function()
    local client = vim.lsp.get_clients({ name = 'codegen', bufnr = buf })[1]
    return client ~= nil and client.initialized == true
  end, 30000)
  return buf
end

--- The buffer's text as writing it produces (lines joined, a final newline).
function H.buffer_text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') .. '\n'
end

--- The failing pytest project of the suite (tests.support.fix_projects) in ``root``.
function H.python_project(root)
  H.py(('from pathlib import Path\nfrom tests.support.fix_projects import make_python_project\n'
    .. 'make_python_project(Path(%q))'):format(root))
end

--- Run pytest in ``root``; returns vim.system's result.
function H.pytest(root)
  return vim.system({ H.python, '-m', 'pytest', '-q', '-p', 'no:cacheprovider' }, { cwd = root, text = true })
    :wait(120000)
end

local function is_preview(bufnr)
  return vim.api.nvim_buf_get_name(bufnr):find('codegen://preview/', 1, true) ~= nil
end

--- The codegen preview buffers that exist now.
function H.preview_buffers()
  return vim.tbl_filter(is_preview, vim.api.nvim_list_bufs())
end

--- The preview window of ``bufnr`` in the current tab page, if any.
function H.preview_window(bufnr)
  local win = vim.fn.bufwinid(bufnr)
  return win ~= -1 and win or nil
end

--- Wait for the codegen preview to open (in a window, without taking the cursor), then enter it with
--- :CodegenPreview as the user would; returns its buffer and text.
function H.wait_preview(timeout_ms)
  local bufnr
  H.wait('the preview to open', function()
    bufnr = H.preview_buffers()[1]
    return bufnr ~= nil
  end, timeout_ms)
  ok(H.preview_window(bufnr), 'the preview is shown')
  ok(vim.api.nvim_get_current_buf() ~= bufnr, 'the preview did not take the cursor')
  vim.cmd('CodegenPreview')
  eq(bufnr, vim.api.nvim_get_current_buf(), ':CodegenPreview enters the preview')
  return bufnr, table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
end

--- Type keys as the user would (mappings apply).
function H.press(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'mx', false)
end

--- Type keys and stay in insert mode when they enter it (as a user in the middle of typing).
function H.type(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'mx!', false)
end

--- Set the plugin up against the repo's daemon.
function H.setup(opts)
  require('codegen').setup(vim.tbl_deep_extend('force', { cmd = { H.daemon } }, opts or {}))
end

--- The codegen clients, stopped and gone; the model stopped; prompts and notify restored.
function H.cleanup()
  local clients = vim.lsp.get_clients({ name = 'codegen' })
  for _, client in ipairs(clients) do
    client:stop()
  end
  vim.wait(5000, function() return #vim.lsp.get_clients({ name = 'codegen' }) == 0 end, 20)
  for _, client in ipairs(vim.lsp.get_clients({ name = 'codegen' })) do
    client:stop(true)
  end
  if state.model then
    state.model:kill('sigterm')
    state.model:wait(5000)
    state.model = nil
  end
  if state.notify then
    vim.notify, state.notify = state.notify, nil
  end
  if state.input then
    vim.ui.input, state.input = state.input, nil
  end
  if state.select then
    vim.ui.select, state.select = state.select, nil
  end
  vim.cmd('silent! %bwipeout!')
  if state.previous_cwd then
    vim.cmd.cd(vim.fn.fnameescape(state.previous_cwd))
  end
  vim.env.OPENAI_BASE_URL, vim.env.CODEGEN_MODEL = nil, nil
end

return H
