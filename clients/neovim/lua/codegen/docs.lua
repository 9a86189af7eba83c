--- The help tags of the plugin's doc/ folder, built when missing or older than the help file, so that
--- `:help codegen` works after any install (a plugin manager that does not run :helptags, a clone).
--- doc/tags is generated, never committed.
local M = {}

local doc_dir = vim.fs.normalize(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h') .. '/doc')

--- Build doc/tags unless it is up to date. Quiet: a read-only install leaves it to the plugin manager.
--- @return boolean built
function M.ensure_helptags()
  local help = vim.uv.fs_stat(doc_dir .. '/codegen.txt')
  if not help then
    return false
  end
  local tags = vim.uv.fs_stat(doc_dir .. '/tags')
  if tags and tags.mtime.sec >= help.mtime.sec then
    return false
  end
  return (pcall(vim.cmd.helptags, { vim.fn.fnameescape(doc_dir), mods = { silent = true, emsg_silent = true } }))
end

--- Neovim 0.10 detects a help file outside $VIMRUNTIME only by its `vim: ft=help` modeline, which is
--- not read where 'modeline' is off (the default for root): `:help codegen` then opened as plain text.
--- 0.11+ reads the modeline's text itself; on 0.10 the plugin's help file is named here, ahead of the
--- `.txt` extension's rule (hence the priority).
function M.ensure_help_filetype()
  if vim.fn.has('nvim-0.11') == 1 then
    return
  end
  vim.filetype.add({ pattern = { ['.*/doc/codegen%.txt'] = { function(_, bufnr)
    if (vim.api.nvim_buf_get_lines(bufnr, 0, 1, false)[1] or ''):find('^%*codegen%.txt%*') then
      return 'help'
    end
  end, { priority = 1 } } } })
end

return M
