--- Daemon errors as one notification a person can act on: the daemon's message plus the fix for its kind.
local M = {}

--- What to do about each `data.kind` the daemon reports (protocol: -32803 with data.kind).
M.fixes = {
  ['not-configured'] = 'Set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) and CODEGEN_MODEL in the '
    .. 'environment Neovim starts from, or settings.model.baseUrl/name in setup(); then :LspRestart or restart Neovim.',
  auth = 'The model endpoint refused the key: check OPENAI_API_KEY in the environment Neovim starts from.',
  ['not-found'] = 'The model endpoint does not know this model: set CODEGEN_MODEL or settings.model.name.',
  unreachable = 'Cannot reach the model endpoint: check OPENAI_BASE_URL / settings.model.baseUrl and that '
    .. 'the server is running.',
  ['rate-limited'] = 'The model endpoint is rate-limiting: wait a moment and run the command again.',
  ['server-error'] = 'The model server failed: run the command again, or check the server.',
  timeout = 'The model took too long: raise settings.model.timeout, or use a faster model.',
  ['bad-request'] = 'The model endpoint rejected the request: check settings.model.name and the endpoint.',
  ['stream-dropped'] = 'The model stream broke off: run the command again.',
  RunNotFound = 'No such run: :CodegenUndo <Tab> lists the runs of this workspace.',
  EditError = 'The change could not be applied to the files as they are now: save your buffers and try again.',
}

--- LSP's RequestCancelled: the user cancelled (:CodegenCancel).
M.REQUEST_CANCELLED = -32800

--- The text of one error notification.
--- @param command string what was running, e.g. "generate"
--- @param err table an LSP ResponseError {code, message, data}
--- @return string
function M.format(command, err)
  local message = err.message or vim.inspect(err)
  local kind = type(err.data) == 'table' and err.data.kind or nil
  local fix = kind and M.fixes[kind]
  local text = ('codegen %s failed: %s'):format(command, message)
  if fix and not message:find(fix, 1, true) then
    text = text .. '\nFix: ' .. fix
  end
  return text
end

--- Notify one error, at ERROR level.
--- @param command string
--- @param err table
function M.notify(command, err)
  vim.notify(M.format(command, err), vim.log.levels.ERROR, { title = 'codegen' })
end

return M
