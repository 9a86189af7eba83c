--- Options of the codegen plugin: the documented defaults, merged with what `setup()` gets.
local M = {}

--- @class codegen.Config
--- @field cmd string[] How to start the daemon.
--- @field root_markers string[] Files or folders that mark a workspace root.
--- @field autostart boolean Attach file buffers to the daemon as they are opened.
--- @field clarify boolean Let the model ask its clarifying questions before :CodegenGenerate.
--- @field notify_progress boolean Show each progress phase with vim.notify.
--- @field feedback { verify: boolean } After a feedback change, run the tests that cover it.
--- @field preview { split: string, height: integer, keys: { accept: string, reject: string } }
--- @field settings table Sent to the daemon as `initializationOptions` (`{codegen = ...}` contents).
M.defaults = {
  cmd = { 'codegen-server' },
  root_markers = { '.git', '.codegen', 'pyproject.toml', 'setup.py', 'package.json', 'Cargo.toml', 'go.mod' },
  autostart = true,
  clarify = true,
  notify_progress = true,
  feedback = {
    -- After a feedback change is applied, run the tests that cover it and report them.
    verify = false,
  },
  preview = {
    -- Where the preview opens: any :split modifier ("botright", "vertical", "tab").
    split = 'botright',
    height = 20,
    keys = { accept = 'a', reject = 'q' },
  },
  -- The daemon's settings (README "Pointing it at a model"): model = {name, baseUrl, timeout,
  -- maxRetries}, apply = {saveAfterApply}, fix = {maxIterations, testCommand, autoAccept, allowTestEdits}.
  -- The API key never goes here: the daemon reads OPENAI_API_KEY from Neovim's environment.
  settings = {},
}

--- @type codegen.Config
M.values = vim.deepcopy(M.defaults)

--- Merge user options over the defaults. Returns the problems found (the key stays out).
--- @param opts table|nil
--- @return string[] problems
function M.set(opts)
  local problems = {}
  opts = vim.deepcopy(opts or {})
  for key in pairs(opts) do
    if M.defaults[key] == nil then
      problems[#problems + 1] = ('unknown option %q'):format(key)
      opts[key] = nil
    end
  end
  if type(opts.cmd) == 'string' then
    opts.cmd = { opts.cmd }
  end
  local model = opts.settings and opts.settings.model
  if type(model) == 'table' and (model.apiKey ~= nil or model.api_key ~= nil) then
    -- A key in a config file ends up in dotfile repositories; the environment is the one place for it.
    model.apiKey, model.api_key = nil, nil
    problems[#problems + 1] = 'settings.model.apiKey is ignored: set OPENAI_API_KEY in the environment instead'
  end
  local merged = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  -- Lists replace the default rather than merging index by index.
  for _, key in ipairs({ 'cmd', 'root_markers' }) do
    if opts[key] ~= nil then
      merged[key] = opts[key]
    end
  end
  M.values = merged
  return problems
end

return M
