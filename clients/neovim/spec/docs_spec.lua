-- The docs: helptags generate without error, :help codegen opens, and the README and the help both
-- name every command the plugin defines and every default option.
local H = require('helpers')

local function commands()
  local names = {}
  for name in pairs(vim.api.nvim_get_commands({})) do
    if name:find('^Codegen') then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  return names
end

describe('docs', function()
  local docs
  before_each(function()
    -- A copy, so that generating tags leaves the plugin folder as it is.
    docs = vim.fn.tempname()
    vim.fn.mkdir(docs .. '/doc', 'p')
    H.write(docs .. '/doc/codegen.txt', H.read(H.plugin_dir .. '/doc/codegen.txt'))
  end)
  after_each(function()
    vim.cmd('silent! helpclose')
  end)

  it('generates help tags without error and :help reaches every command', function()
    vim.cmd.helptags(vim.fn.fnameescape(docs .. '/doc')) -- raises on duplicate or malformed tags
    vim.opt.runtimepath:append(docs)
    vim.cmd('help codegen')
    contains(vim.api.nvim_buf_get_name(0), 'codegen.txt')
    eq('help', vim.bo.filetype)
    local names = commands()
    eq(11, #names, vim.inspect(names))
    for _, name in ipairs(names) do
      vim.cmd('help :' .. name)
      contains(vim.api.nvim_get_current_line(), '*:' .. name .. '*')
    end
    for _, tag in ipairs({ 'codegen-setup', 'codegen-preview', 'codegen.status()', 'codegen-health' }) do
      vim.cmd('help ' .. tag)
    end
  end)

  it('README and help name every command, default option and preview key', function()
    local readme = H.read(H.plugin_dir .. '/README.md')
    local help = H.read(H.plugin_dir .. '/doc/codegen.txt')
    for _, name in ipairs(commands()) do
      contains(readme, ':' .. name, 'README')
      contains(help, ':' .. name, 'help')
    end
    local defaults = require('codegen.config').defaults
    for key in pairs(defaults) do
      contains(readme, key .. ' = ', 'README')
      contains(help, key .. ' = ', 'help')
    end
    for _, key in pairs(defaults.preview.keys) do
      contains(readme, '| `' .. key .. '` |', 'README preview keys')
      contains(help, '    ' .. key .. '       ', 'help preview keys')
    end
    contains(readme, 'require("codegen").status()')
    contains(help, 'require("codegen").status()')
  end)
end)
