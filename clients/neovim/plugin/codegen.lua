-- codegen: user commands only; everything else loads on first use (see :help codegen).
if vim.g.loaded_codegen == 1 then
  return
end
vim.g.loaded_codegen = 1

local function cmd(name, fn, opts)
  vim.api.nvim_create_user_command(name, fn, opts)
end

cmd('CodegenGenerate', function(o)
  require('codegen').generate(o.args)
end, { nargs = '*', desc = 'codegen: clarify, then generate (previewed)' })

cmd('CodegenFeedback', function(o)
  require('codegen').feedback({ line1 = o.line1, line2 = o.line2, text = o.args, markers = o.bang })
end, { nargs = '*', range = true, bang = true, desc = 'codegen: a comment on the range; ! acts on codegen: markers' })

cmd('CodegenReply', function(o)
  require('codegen').reply(o.args)
end, { nargs = '*', desc = "codegen: reply in this buffer's last feedback thread" })

cmd('CodegenFix', function()
  require('codegen').fix()
end, { nargs = 0, desc = 'codegen: fix until the tests pass' })

cmd('CodegenCancel', function()
  require('codegen').cancel()
end, { nargs = 0, desc = 'codegen: cancel the running command' })

cmd('CodegenUndo', function(o)
  require('codegen').undo(o.args)
end, {
  nargs = '?',
  complete = function(arglead)
    return require('codegen.commands.undo').complete(arglead)
  end,
  desc = 'codegen: return the workspace to the start of a run',
})

cmd('CodegenApplyDiff', function(o)
  require('codegen').apply_diff(o.reg)
end, { nargs = 0, register = true, desc = 'codegen: apply the diff in a register or the current buffer' })
