--- :CodegenFix — run the daemon's repair loop; each iteration's edit is previewed.
local async = require('codegen.async')
local client = require('codegen.client')
local common = require('codegen.commands.common')

return function()
  async.run(function()
    local daemon = common.daemon(client.current_root())
    if not daemon then
      return
    end
    local result = common.run(daemon, 'codegen.fixTests', {}, 'fix')
    if not result then
      return
    end
    vim.cmd.checktime() -- a restore to the best state rewrites files on disk
    local summary = common.present(result.summary) and result.summary
      or ('stopped: %s, %s failing'):format(result.stopped, result.failingAtEnd)
    common.notify(('codegen fix (run %s): %s'):format(result.runId, summary),
      result.green == true and vim.log.levels.INFO or vim.log.levels.WARN)
  end)
end
