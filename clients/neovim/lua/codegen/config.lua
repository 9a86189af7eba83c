--- Options of the codegen plugin: the documented defaults, merged with what `setup()` gets, and checked
--- there (a typo is named at setup, not later as an error from deep inside a command).
local M = {}

--- @class codegen.PreviewKeys
--- @field accept string accept every pending hunk
--- @field reject string reject every pending hunk
--- @field accept_hunk string accept the hunk under the cursor (written at once)
--- @field reject_hunk string reject the hunk under the cursor
--- @field next_hunk string
--- @field prev_hunk string

--- @class codegen.Config
--- @field cmd string[] How to start the daemon.
--- @field root_markers string[] Files or folders that mark a workspace root.
--- @field autostart boolean|string[] Start the daemon for files of these filetypes (true: the languages codegen indexes).
--- @field clarify boolean Let the model ask its clarifying questions before :CodegenGenerate.
--- @field notify_progress boolean Also show each progress phase with vim.notify.
--- @field feedback { verify: boolean } After a feedback change, run the tests that cover it.
--- @field preview { split: string, height: integer, width: integer, enter_when_idle: boolean, keys: codegen.PreviewKeys }
--- @field settings table Sent to the daemon as `initializationOptions` (`{codegen = ...}` contents).
M.defaults = {
  cmd = { 'codegen-server' },
  root_markers = { '.git', '.codegen', 'pyproject.toml', 'setup.py', 'package.json', 'Cargo.toml', 'go.mod' },
  autostart = true,
  clarify = true,
  notify_progress = false,
  feedback = {
    -- After a feedback change is applied, run the tests that cover it and report them.
    verify = false,
  },
  preview = {
    -- Where the preview opens (it never takes the cursor): see M.SPLITS.
    split = 'botright',
    height = 20, -- rows of a horizontal split
    width = 80, -- columns of a vertical split
    -- Move the cursor into the preview once the user is idle in normal mode for 'updatetime'.
    enter_when_idle = true,
    keys = { accept = 'ga', reject = 'gr', accept_hunk = 'gh', reject_hunk = 'gx', next_hunk = ']c',
      prev_hunk = '[c' },
  },
  -- The daemon's settings (README "Pointing it at a model"): model = {name, baseUrl, timeout,
  -- maxRetries, maxAnswerChars, maxCallSeconds}, apply = {saveAfterApply}, fix = {maxIterations, testCommand, autoAccept, allowTestEdits}.
  -- The API key never goes here: the daemon reads OPENAI_API_KEY from Neovim's environment.
  settings = {},
}

--- The preview's `split` values: where nvim_open_win puts the window (win -1: the whole screen's
--- edge, 0: beside the current window); "tab" opens it in a tab page of its own when entered.
M.SPLITS = {
  botright = { split = 'below', win = -1 },
  topleft = { split = 'above', win = -1 },
  belowright = { split = 'below', win = 0 },
  aboveleft = { split = 'above', win = 0 },
  vertical = { split = 'right', win = 0, vertical = true },
  ['vertical botright'] = { split = 'right', win = -1, vertical = true },
  ['vertical topleft'] = { split = 'left', win = -1, vertical = true },
  tab = { tab = true },
}

--- The filetypes whose files codegen indexes (the daemon's context/languages.py); `autostart = true`
--- starts the daemon for these only.
M.INDEXED_FILETYPES = { 'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust',
  'java', 'c', 'cpp' }

--- @type codegen.Config
M.values = vim.deepcopy(M.defaults)

local function is_list_of_strings(value)
  if type(value) ~= 'table' or not vim.islist(value) or #value == 0 then
    return false
  end
  for _, item in ipairs(value) do
    if type(item) ~= 'string' or item == '' then
      return false
    end
  end
  return true
end

--- Problems with the merged options: each names the option and what it should be. The option
--- falls back to its default.
local function check(merged)
  local problems = {}
  local function bad(path, want, fallback)
    local value = vim.tbl_get(merged, unpack(vim.split(path, '.', { plain = true })))
    problems[#problems + 1] = ('option %s = %s is not %s (using the default)'):format(path, vim.inspect(value), want)
    fallback()
  end
  local d = M.defaults
  if not is_list_of_strings(merged.cmd) then
    bad('cmd', 'a list of strings (the daemon and its arguments)', function() merged.cmd = vim.deepcopy(d.cmd) end)
  end
  if not is_list_of_strings(merged.root_markers) then
    bad('root_markers', 'a list of file names', function() merged.root_markers = vim.deepcopy(d.root_markers) end)
  end
  if type(merged.autostart) ~= 'boolean' and not is_list_of_strings(merged.autostart) then
    bad('autostart', 'true, false or a list of filetypes', function() merged.autostart = d.autostart end)
  end
  for _, key in ipairs({ 'clarify', 'notify_progress' }) do
    if type(merged[key]) ~= 'boolean' then
      bad(key, 'true or false', function() merged[key] = d[key] end)
    end
  end
  if type(merged.feedback) ~= 'table' or type(merged.feedback.verify) ~= 'boolean' then
    bad('feedback.verify', 'true or false', function() merged.feedback = vim.deepcopy(d.feedback) end)
  end
  local preview = merged.preview
  if type(preview) ~= 'table' then
    bad('preview', 'a table', function() merged.preview = vim.deepcopy(d.preview) end)
    preview = merged.preview
  end
  if not M.SPLITS[preview.split] then
    local names = vim.tbl_keys(M.SPLITS)
    table.sort(names)
    bad('preview.split', 'one of "' .. table.concat(names, '", "') .. '"', function() preview.split = d.preview.split end)
  end
  for _, key in ipairs({ 'height', 'width' }) do
    local n = preview[key]
    if type(n) ~= 'number' or n < 1 or n % 1 ~= 0 then
      bad('preview.' .. key, 'a positive whole number', function() preview[key] = d.preview[key] end)
    end
  end
  if type(preview.enter_when_idle) ~= 'boolean' then
    bad('preview.enter_when_idle', 'true or false', function() preview.enter_when_idle = d.preview.enter_when_idle end)
  end
  for name in pairs(type(preview.keys) == 'table' and preview.keys or {}) do
    if d.preview.keys[name] == nil then
      problems[#problems + 1] = ('unknown option preview.keys.%s (ignored)'):format(name)
      preview.keys[name] = nil
    elseif type(preview.keys[name]) ~= 'string' or preview.keys[name] == '' then
      bad('preview.keys.' .. name, 'a key sequence', function() preview.keys[name] = d.preview.keys[name] end)
    end
  end
  if type(merged.settings) ~= 'table' then
    bad('settings', 'a table', function() merged.settings = {} end)
  end
  return problems
end

--- Merge user options over the defaults and check them. Returns the problems found; an unknown
--- option stays out and a bad value falls back to its default.
--- @param opts table|nil
--- @return string[] problems
function M.set(opts)
  local problems = {}
  if opts ~= nil and type(opts) ~= 'table' then
    problems[1] = ('setup() takes a table of options, not %s'):format(vim.inspect(opts))
    opts = {}
  end
  opts = vim.deepcopy(opts or {})
  for key in pairs(opts) do
    if M.defaults[key] == nil then
      problems[#problems + 1] = ('unknown option %q'):format(key)
      opts[key] = nil
    end
  end
  for _, group in ipairs({ 'feedback', 'preview' }) do
    if type(opts[group]) == 'table' then
      for key in pairs(opts[group]) do
        if M.defaults[group][key] == nil then
          problems[#problems + 1] = ('unknown option %s.%s'):format(group, key)
          opts[group][key] = nil
        end
      end
    end
  end
  if type(opts.cmd) == 'string' then
    opts.cmd = { opts.cmd }
  end
  local model = type(opts.settings) == 'table' and opts.settings.model
  if type(model) == 'table' and (model.apiKey ~= nil or model.api_key ~= nil) then
    -- A key in a config file ends up in dotfile repositories; the environment is the one place for it.
    model.apiKey, model.api_key = nil, nil
    problems[#problems + 1] = 'settings.model.apiKey is ignored: set OPENAI_API_KEY in the environment instead'
  end
  local defaults = vim.deepcopy(M.defaults)
  local merged = vim.tbl_deep_extend('force', defaults, opts)
  -- Lists replace the default rather than merging index by index.
  for _, key in ipairs({ 'cmd', 'root_markers', 'autostart' }) do
    if opts[key] ~= nil then
      merged[key] = opts[key]
    end
  end
  vim.list_extend(problems, check(merged))
  M.values = merged
  return problems
end

--- The settings sent to the daemon: the user's, with `apply.saveAfterApply` off unless the user set
--- it — this plugin writes every buffer it changes itself, and a hunk accepted alone must not be
--- followed by the daemon writing the whole change.
--- @return table
function M.daemon_settings()
  local settings = vim.deepcopy(M.values.settings)
  settings.apply = type(settings.apply) == 'table' and settings.apply or {}
  if settings.apply.saveAfterApply == nil then
    settings.apply.saveAfterApply = false
  end
  return settings
end

return M
