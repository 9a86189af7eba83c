--- :CodegenUndo [run] — return the workspace to the start of a run (default: the last run of this session).
local async = require('codegen.async')
local client = require('codegen.client')
local common = require('codegen.commands.common')

local M = {}

--- Run ids of the current workspace, newest first (for completion).
--- @return string[]
function M.complete(arglead)
  local runs = vim.fs.joinpath(client.current_root(), '.codegen', 'runs')
  local ids = {}
  for name, kind in vim.fs.dir(runs) do
    if kind == 'directory' and name:sub(1, #arglead) == arglead then
      ids[#ids + 1] = name
    end
  end
  table.sort(ids, function(a, b) return a > b end)
  return ids
end

--- @param run_id string|nil
function M.run(run_id)
  async.run(function()
    local root = client.current_root()
    run_id = common.present(run_id) and run_id or common.last_run[root]
    if not run_id then
      common.notify('codegen: no run to undo in this session: give a run id (:CodegenUndo <Tab> lists them).',
        vim.log.levels.ERROR)
      return
    end
    local daemon = common.daemon(root)
    if not daemon then
      return
    end
    local result = common.run(daemon, 'codegen.undo', { runId = run_id }, 'undo')
    if not result then
      return
    end
    vim.cmd.checktime() -- buffers of the restored files reload from disk
    common.notify(('codegen: restored %s to %s of run %s (%d written, %d removed)')
      :format(root, result.restoredTo, run_id, #common.list(result.written), #common.list(result.removed)))
  end)
end

return M
