-- setup() settings reach the daemon (initializationOptions, then didChangeConfiguration); the API key
-- never comes from the config.
local H = require('helpers')

local NOTHING_TO_CLARIFY = H.constant('tests.support.answers', 'NOTHING_TO_CLARIFY')

--- Run :CodegenGenerate's clarify round only (the prompt is answered, nothing to clarify, then stop).
local function clarify_once()
  local before = #H.notifications
  require('codegen.async').run(function()
    local client = require('codegen.client')
    local common = require('codegen.commands.common')
    local daemon = common.daemon(client.current_root())
    common.run(daemon, 'codegen.clarify', { prompt = 'a calculator' }, 'clarify')
    common.notify('clarified')
  end)
  H.wait('the clarify round', function()
    for i = before + 1, #H.notifications do
      if H.notifications[i].message == 'clarified' then
        return true
      end
    end
    return false
  end)
end

describe('settings', function()
  H.per_case()

  it('go to the daemon at start and again when setup() runs again', function()
    H.workspace()
    local model = H.model({ { content = NOTHING_TO_CLARIFY }, { content = NOTHING_TO_CLARIFY } })
    H.setup({ settings = { model = { name = 'model-from-setup' } } })
    clarify_once()
    H.setup({ settings = { model = { name = 'model-changed-later' } } })
    clarify_once()
    local requests = model.requests()
    eq('model-from-setup', requests[1].model)
    eq('model-changed-later', requests[2].model)
  end)

  it('ignore an API key in the config, with a warning', function()
    H.setup({ settings = { model = { apiKey = 'sk-from-config-1234', name = 'm' } } })
    local warning = H.wait_notify('apiKey is ignored')
    eq(vim.log.levels.WARN, warning.level)
    contains(warning.message, 'OPENAI_API_KEY')
    eq({ name = 'm' }, require('codegen.config').values.settings.model)
  end)

  it('word a refused key in Neovim terms: the environment variable and :CodegenRestart, never VS Code', function()
    H.workspace()
    H.model({ { status = 401, error_message = 'Incorrect API key provided' } })
    H.setup({ clarify = false })
    vim.cmd('CodegenGenerate a calculator')
    local failed = H.wait_notify('failed', 30000)
    eq(vim.log.levels.ERROR, failed.level)
    contains(failed.message, '$OPENAI_API_KEY in the environment')
    contains(failed.message, ':CodegenRestart')
    ok(not failed.message:find('setup()', 1, true), 'the key is never a setup() option: ' .. failed.message)
    ok(not failed.message:find('VS Code', 1, true), failed.message)
    ok(not failed.message:find('Traceback', 1, true), failed.message)
    ok(not failed.message:find('\n', 1, true), 'one line: ' .. failed.message)
  end)

  it('forward model.maxAnswerChars, and word its error in Neovim terms', function()
    H.workspace()
    H.model({ { content = string.rep('x', 400) } })
    H.setup({ clarify = false, settings = { model = { maxAnswerChars = 100 } } })
    vim.cmd('CodegenGenerate a calculator')
    local failed = H.wait_notify('failed', 30000)
    contains(failed.message, '100 characters')
    contains(failed.message, 'settings.model.maxAnswerChars in require("codegen").setup()')
  end)

  it('report unknown options', function()
    H.setup({ colour = 'blue' })
    contains(H.wait_notify('unknown option').message, 'colour')
  end)
end)
