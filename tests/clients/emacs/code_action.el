;;; code_action.el --- a user in Emacs + eglot runs a codegen code action  -*- lexical-binding: t -*-
;;
;; Run by tests/clients/test_emacs.py as `emacs --batch -q -l code_action.el FILE` (-q: no init
;; file, but Debian's site start-up, which activates the elpa-eglot package), in a git project, with
;; CODEGEN_TEST_SERVER naming the daemon. The only codegen configuration is the
;; `eglot-server-programs' entry, as the README shows; the rest is what a user does: open the file,
;; start eglot, in a file with a marker wait for its diagnostic and go to it, run M-x
;; eglot-code-actions (the answers to eglot's prompts come on stdin, as typed: the action's title,
;; then "y" to each edit), and wait for the outcome eglot reports from the server.
;; Prints each step with its time since start, "DIAGNOSTIC: ..." and the edited buffer after
;; "BUFFER:"; exits non-zero on any failure.

(require 'eglot)
(require 'flymake)

(add-to-list 'eglot-server-programs
             `(python-mode . (,(getenv "CODEGEN_TEST_SERVER"))))

(defvar codegen-test--start (float-time))

(defun codegen-test--log (format-string &rest args)
  (princ (format "%.1fs %s\n" (- (float-time) codegen-test--start) (apply #'format format-string args))))

(defun codegen-test--wait (what predicate seconds)
  "Process events until PREDICATE holds, or fail naming WHAT after SECONDS."
  (let ((deadline (+ (float-time) seconds)))
    (while (not (funcall predicate))
      (when (> (float-time) deadline)
        (error "Timed out waiting for %s" what))
      (accept-process-output nil 0.05))))

(defun codegen-test--markers ()
  (seq-filter (lambda (diag) (string-prefix-p "codegen [marker]" (flymake-diagnostic-text diag)))
              (flymake-diagnostics)))

(condition-case failure
    (let ((file (car command-line-args-left)))
      (setq command-line-args-left nil)
      (find-file file)
      (call-interactively #'eglot)
      (when (string-match-p "codegen:" (buffer-string))
        (codegen-test--wait "the marker's diagnostic" #'codegen-test--markers 60)
        (let ((diag (car (codegen-test--markers))))
          (codegen-test--log "DIAGNOSTIC: line %d: %s" (line-number-at-pos (flymake-diagnostic-beg diag))
                             (flymake-diagnostic-text diag))
          (goto-char (flymake-diagnostic-beg diag))))
      ;; As typed at the keyboard: batch Emacs has no last input event, and eglot would then offer a
      ;; mouse menu instead of asking in the minibuffer.
      (let ((last-nonmenu-event ?\r))
        (call-interactively #'eglot-code-actions))
      ;; The action is answered at once; the edit, then the outcome (window/showMessage) follow.
      (codegen-test--wait "the outcome" (lambda () (with-current-buffer "*Messages*"
                                                     (string-match-p "Server reports.*codegen:" (buffer-string))))
                          120)
      (codegen-test--log "BUFFER:\n%s" (buffer-string))
      (kill-emacs 0))
  (error (codegen-test--log "FAILED: %s" (error-message-string failure))
         (kill-emacs 1)))
