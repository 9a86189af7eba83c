--- :CodegenGenerate [prompt] — clarify (questions one by one), then generate, previewed before writing.
local async = require('codegen.async')
local client = require('codegen.client')
local common = require('codegen.commands.common')
local config = require('codegen.config')

local KEEP = 'Keep answering'
local DISCARD = 'Discard my answers'

--- Ask each of the model's questions; nil when the user stopped. An empty answer skips one. <Esc> once
--- something was answered (in this round or an earlier one: ``given``) asks first, as VS Code does:
--- keeping the answers (also <Esc> there) asks the same question again.
local function ask(questions, given)
  local answers = {}
  local i = 1
  while i <= #questions do
    local answer = async.input({ prompt = ('codegen question %d/%d: %s '):format(i, #questions, questions[i]) })
    if answer ~= nil then
      answers[i] = answer
      i = i + 1
    elseif given + i == 1 then
      return nil
    elseif async.select({ KEEP, DISCARD }, { prompt = 'codegen: discard your answers? (<Esc> keeps them)' }) == DISCARD then
      return nil
    end
  end
  return answers
end

--- @param prompt string|nil what to build; asked for when empty
return function(prompt)
  async.run(function()
    if not common.present(prompt) then
      prompt = async.input({ prompt = 'codegen: what should I build? ' })
      if not common.present(prompt) then
        return
      end
    end
    local root = client.current_root()
    local daemon = common.daemon(root)
    if not daemon then
      return
    end
    local args = { prompt = prompt }
    if config.values.clarify then
      local round = common.run(daemon, 'codegen.clarify', { prompt = prompt }, 'clarify')
      if not round then
        return
      end
      local given = 0
      while #common.list(round.questions) > 0 do
        local answers = ask(round.questions, given)
        given = given + #common.list(round.questions)
        if not answers then
          common.notify('codegen generate cancelled; nothing was written.', vim.log.levels.WARN)
          return
        end
        round = common.run(daemon, 'codegen.clarify', { runId = round.runId, answers = answers }, 'clarify')
        if not round then
          return
        end
      end
      args = { runId = round.runId }
    end
    local result = common.run(daemon, 'codegen.generateProject', args, 'generate')
    if result then
      common.report_change('generate', result)
    end
  end)
end
