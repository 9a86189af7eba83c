--- :CodegenApplyDiff [x] — apply the unified diff in register x (default: the current buffer) through the daemon.
local async = require('codegen.async')
local client = require('codegen.client')
local common = require('codegen.commands.common')

--- @param register string|nil a register name, or empty for the current buffer
return function(register)
  local diff
  if common.present(register) then
    diff = vim.fn.getreg(register)
  else
    diff = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n') .. '\n'
  end
  if not diff:find('%S') then
    common.notify(('codegen: %s is empty: yank a diff into a register, or open a .patch file.'):format(
      common.present(register) and ('register ' .. register) or 'the current buffer'), vim.log.levels.ERROR)
    return
  end
  async.run(function()
    local daemon = common.daemon(client.current_root())
    if not daemon then
      return
    end
    local result = common.run(daemon, 'codegen.applyDiff', { diff = diff }, 'apply diff')
    if result then
      common.report_change('apply diff', result)
    end
  end)
end
