--- :CodegenUndo [run] — return the workspace to the start of a run (default: the daemon's, the latest run of
--- the workspace that left files changed).
local async = require('codegen.async')
local client = require('codegen.client')
local common = require('codegen.commands.common')

local M = {}

--- Ids of the current workspace's runs that can be undone (they left files changed), newest first, for
--- completion: asked of the daemon, which lists only the runs it wrote for this user (a run folder that
--- came with a cloned repository, say with a far-future id, never shows). No running daemon: nothing.
--- @return string[]
function M.complete(arglead)
  local daemon = client.find(client.current_root())
  if not daemon then
    return {}
  end
  local params = { command = 'codegen.runs', arguments = { vim.empty_dict() } }
  local answer = client.call(daemon, 'request_sync', 'workspace/executeCommand', params, 2000)
  local runs = answer and answer.result and answer.result.runs or {}
  local ids = {}
  for _, run in ipairs(runs) do
    if type(run.id) == 'string' and run.undoable == true and run.id:sub(1, #arglead) == arglead then
      ids[#ids + 1] = run.id
    end
  end
  return ids
end

--- Without a run id, the daemon undoes the latest run that left files changed (any kind of run).
--- @param run_id string|nil
function M.run(run_id)
  async.run(function()
    local root = client.current_root()
    local daemon = common.daemon(root)
    if not daemon then
      return
    end
    -- No run given: the daemon undoes the latest run that left files changed.
    local args = common.present(run_id) and { runId = run_id } or vim.empty_dict()
    local result = common.run(daemon, 'codegen.undo', args, 'undo')
    if not result then
      return
    end
    vim.cmd.checktime() -- buffers of the restored files reload from disk
    common.notify(('codegen: restored %s to %s of run %s (%d written, %d removed)')
      :format(root, result.restoredTo, result.runId, #common.list(result.written), #common.list(result.removed)))
  end)
end

return M
