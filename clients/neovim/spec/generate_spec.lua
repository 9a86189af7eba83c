-- :CodegenGenerate against the real daemon and the scripted model: clarify, preview, accept or reject.
local H = require('helpers')

local CALC_PROJECT = H.constant('tests.support.answers', 'CALC_PROJECT')
local CALC_FILES = vim.json.decode(H.constant('tests.support.answers', 'CALC_FILES'))
local CLARIFY_QUESTIONS = H.constant('tests.support.answers', 'CLARIFY_QUESTIONS')
local NOTHING_TO_CLARIFY = H.constant('tests.support.answers', 'NOTHING_TO_CLARIFY')

describe('CodegenGenerate', function()
  H.per_case()

  it('asks for the prompt and the questions, previews, and writes the accepted project', function()
    local root = H.workspace()
    local model = H.model({ { content = CLARIFY_QUESTIONS }, { content = NOTHING_TO_CLARIFY },
      { content = CALC_PROJECT } })
    H.setup()
    H.answer_inputs({ 'a calculator library', 'add, sub, mul, div', '' })
    vim.cmd('CodegenGenerate')

    local preview, text = H.wait_preview()
    eq('diff', vim.bo[preview].filetype)
    contains(text, 'diff --git a/calc/ops.py b/calc/ops.py')
    contains(text, '+def divide(a: float, b: float) -> float:')
    eq({}, H.files(root), 'nothing is written before the preview is accepted')
    -- The questions came one by one, after the prompt.
    eq(3, #H.prompts)
    contains(H.prompts[2], 'Which operations should the calculator support?')
    contains(H.prompts[3], 'library, a command-line tool, or both?')

    H.press('ga')
    local done = H.wait_notify('codegen generate:')
    eq(vim.log.levels.INFO, done.level, done.message)
    local expected = vim.deepcopy(CALC_FILES)
    table.sort(expected)
    eq(expected, H.files(root))
    contains(H.read(root .. '/calc/ops.py'), 'raise ZeroDivisionError("cannot divide by zero")')
    -- Each file's buffer holds what the disk holds, saved.
    for _, path in ipairs(CALC_FILES) do
      local buf = vim.fn.bufnr(root .. '/' .. path)
      ok(buf ~= -1 and vim.api.nvim_buf_is_loaded(buf), path .. ' has a buffer')
      ok(not vim.bo[buf].modified, path .. ' is unsaved')
      eq(H.read(root .. '/' .. path), H.buffer_text(buf), path)
    end
    -- The answers reached the model: the generate request holds them; the skipped one is not sent.
    local requests = model.requests()
    eq(3, #requests)
    contains(H.request_text(requests[3]), 'add, sub, mul, div')
    -- The project the user accepted works.
    local tests = H.pytest(root)
    eq(0, tests.code, tests.stdout .. tests.stderr)
    contains(tests.stdout, '3 passed')
  end)

  it('writes nothing when the preview is rejected', function()
    local root = H.workspace()
    H.model({ { content = CALC_PROJECT } })
    H.setup({ clarify = false })
    vim.cmd('CodegenGenerate a calculator library')
    local preview = H.wait_preview()
    H.press('gr')
    local done = H.wait_notify('not applied')
    eq(vim.log.levels.WARN, done.level)
    contains(done.message, 'declined')
    ok(not vim.api.nvim_buf_is_valid(preview), 'the preview closed')
    eq({}, H.files(root))
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      ok(not vim.api.nvim_buf_get_name(buf):find('calc', 1, true), 'no buffer for a generated file')
    end
  end)

  it('reports a model error once, at ERROR level, with the fix', function()
    H.workspace()
    H.model({ { status = 401, error_message = 'Incorrect API key provided' } })
    H.setup({ clarify = false })
    vim.cmd('CodegenGenerate a calculator library')
    local failed = H.wait_notify('codegen generate failed')
    eq(vim.log.levels.ERROR, failed.level)
    contains(failed.message, 'OPENAI_API_KEY')
    local errors = vim.tbl_filter(function(n) return n.level == vim.log.levels.ERROR end, H.notifications)
    eq(1, #errors, H.notifications_text())
  end)
end)
