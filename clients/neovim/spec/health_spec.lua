-- :checkhealth codegen on a working setup and with the daemon missing; attaching only to real files.
local H = require('helpers')

local function checkhealth()
  vim.cmd('checkhealth codegen')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  return text
end

describe('checkhealth codegen', function()
  local saved_key
  before_each(function()
    H.capture_notify()
    saved_key = vim.env.OPENAI_API_KEY
  end)
  after_each(function()
    vim.env.OPENAI_API_KEY = saved_key
    H.cleanup()
  end)

  it('reports OK on a working setup and never shows the key', function()
    H.workspace()
    local model = H.model({})
    vim.env.OPENAI_API_KEY = 'sk-spec-secret-4242'
    H.setup()
    local text = checkhealth()
    contains(text, 'OK Neovim 0.')
    contains(text, 'OK daemon: codegen-server ')
    contains(text, 'OK model endpoint: ' .. model.url)
    contains(text, 'OK model: scripted-model')
    contains(text, 'OK API key: OPENAI_API_KEY is set')
    ok(not text:find('ERROR', 1, true), text)
    ok(not text:find('sk-spec-secret-4242', 1, true), 'the key is never shown')
  end)

  it('reports an unreachable endpoint as an ERROR naming :CodegenRestart', function()
    H.workspace()
    vim.env.OPENAI_BASE_URL = 'http://127.0.0.1:9/v1'
    vim.env.CODEGEN_MODEL = 'scripted-model'
    H.setup()
    local text = checkhealth()
    contains(text, 'ERROR endpoint unreachable: GET http://127.0.0.1:9/v1/models failed')
    contains(text, ':CodegenRestart')
  end)

  it('reports an ERROR with the fix when the daemon is missing', function()
    H.workspace()
    H.setup({ cmd = { '/nonexistent/codegen-server' } })
    local text = checkhealth()
    contains(text, 'ERROR daemon not found: "/nonexistent/codegen-server"')
    contains(text, 'pip install -e .')
    contains(text, 'setup({ cmd = {')
  end)

  it('a command with the daemon missing gives one ERROR naming the fix', function()
    H.workspace()
    H.setup({ cmd = { '/nonexistent/codegen-server' } })
    vim.cmd('CodegenGenerate a calculator')
    local failed = H.wait_notify('was not found', 2000)
    eq(vim.log.levels.ERROR, failed.level)
    contains(failed.message, 'set cmd in require("codegen").setup()')
  end)
end)

describe('attaching', function()
  after_each(function()
    H.cleanup()
  end)

  it('attaches file buffers only, never help or scratch buffers', function()
    local root = H.workspace()
    H.write(root .. '/notes.py', 'x = 1\n')
    H.setup()
    vim.cmd.edit(vim.fn.fnameescape(root .. '/notes.py'))
    local file = vim.api.nvim_get_current_buf()
    H.wait('the daemon to attach', function()
      return #vim.lsp.get_clients({ name = 'codegen', bufnr = file }) == 1
    end, 30000)
    local client = vim.lsp.get_clients({ name = 'codegen' })[1]
    eq(root, client.root_dir)
    vim.cmd('help lsp')
    local help = vim.api.nvim_get_current_buf()
    vim.cmd('new')
    local scratch = vim.api.nvim_get_current_buf()
    vim.wait(300)
    eq(0, #vim.lsp.get_clients({ name = 'codegen', bufnr = help }), 'help buffer')
    eq(0, #vim.lsp.get_clients({ name = 'codegen', bufnr = scratch }), 'scratch buffer')
    ok(not client:is_stopped(), 'the daemon is still running')
  end)
end)
