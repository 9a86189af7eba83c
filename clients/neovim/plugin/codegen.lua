-- codegen: commands, <Plug> mappings and the help tags only; everything else loads on first use
-- (see :help codegen).
if vim.g.loaded_codegen == 1 then
  return
end
vim.g.loaded_codegen = 1

require('codegen.docs').ensure_helptags()
require('codegen.docs').ensure_help_filetype()

local function cmd(name, fn, opts)
  vim.api.nvim_create_user_command(name, fn, opts)
end

local function complete_runs(arglead)
  return require('codegen.commands.undo').complete(arglead)
end

--- The actions: each a command (:Codegen{Name}), a :Codegen subcommand and a <Plug>(codegen-{sub}) map.
--- run(o) gets the command's opts ({args, line1, line2, range, bang, reg}).
local actions = {
  { sub = 'generate', name = 'CodegenGenerate', nargs = '*', desc = 'codegen: clarify, then generate (previewed)',
    run = function(o) require('codegen').generate(o.args) end },
  { sub = 'feedback', name = 'CodegenFeedback', nargs = '*', range = true, bang = true,
    desc = 'codegen: a comment on the range; ! acts on codegen: markers',
    run = function(o)
      require('codegen').feedback({ line1 = o.line1, line2 = o.line2, text = o.args, markers = o.bang })
    end },
  { sub = 'markers', desc = 'codegen: act on the codegen: marker comments of the workspace',
    run = function() require('codegen').feedback({ markers = true }) end },
  { sub = 'reply', name = 'CodegenReply', nargs = '*', desc = "codegen: reply in this buffer's last feedback thread",
    run = function(o) require('codegen').reply(o.args) end },
  { sub = 'fix', name = 'CodegenFix', nargs = 0, desc = 'codegen: fix until the tests pass',
    run = function() require('codegen').fix() end },
  { sub = 'cancel', name = 'CodegenCancel', nargs = 0, desc = 'codegen: cancel the running command',
    run = function() require('codegen').cancel() end },
  { sub = 'undo', name = 'CodegenUndo', nargs = '?', complete = complete_runs,
    desc = 'codegen: return the workspace to the start of a run (default: the latest that wrote files)',
    run = function(o) require('codegen').undo(o.args) end },
  { sub = 'apply-diff', name = 'CodegenApplyDiff', nargs = 0, register = true,
    desc = 'codegen: apply the diff in a register or the current buffer',
    run = function(o) require('codegen').apply_diff(o.reg) end },
  { sub = 'preview', name = 'CodegenPreview', nargs = 0, desc = 'codegen: move the cursor into the open preview',
    run = function() require('codegen').preview() end },
  { sub = 'restart', name = 'CodegenRestart', nargs = 0, desc = 'codegen: restart the daemon',
    run = function() require('codegen').restart() end },
  { sub = 'log', name = 'CodegenLog', nargs = 0, desc = "codegen: show the daemon's log and stderr",
    run = function() require('codegen').log() end },
}

local by_sub = {}
for _, action in ipairs(actions) do
  by_sub[action.sub] = action
  if action.name then
    cmd(action.name, action.run, { nargs = action.nargs, range = action.range, bang = action.bang,
      register = action.register, complete = action.complete, desc = action.desc })
  end
  vim.keymap.set('n', ('<Plug>(codegen-%s)'):format(action.sub), function()
    action.run({ args = '', line1 = vim.fn.line('.'), line2 = vim.fn.line('.'), bang = false, reg = '' })
  end, { desc = action.desc })
end
-- In visual mode, feedback is on the selected lines.
vim.keymap.set('x', '<Plug>(codegen-feedback)', ':CodegenFeedback<CR>', { silent = true, desc = by_sub.feedback.desc })

local subs = vim.tbl_map(function(action) return action.sub end, actions)

cmd('Codegen', function(o)
  local sub, rest = o.args:match('^%s*(%S+)%s*(.-)%s*$')
  local action = sub and by_sub[sub]
  if not action then
    vim.notify(('codegen: :Codegen needs one of: %s'):format(table.concat(subs, ', ')), vim.log.levels.ERROR,
      { title = 'codegen' })
    return
  end
  action.run({ args = rest, line1 = o.line1, line2 = o.line2, range = o.range, bang = o.bang, reg = rest })
end, {
  nargs = '+',
  range = true,
  bang = true,
  desc = 'codegen: :Codegen {subcommand} [args]',
  complete = function(arglead, cmdline)
    local words = vim.split(cmdline:gsub('^.-Codegen!?%s*', ''), '%s+')
    if #words <= 1 then
      return vim.tbl_filter(function(sub) return sub:sub(1, #arglead) == arglead end, subs)
    end
    local action = by_sub[words[1]]
    return action and action.complete and action.complete(arglead) or {}
  end,
})
