#!/usr/bin/env node
// Drive a real VS Code (code-server) in headless Debian Chromium via playwright-core:
//   install .vsix file(s) -> start code-server on 127.0.0.1 -> open a folder -> wait for the workbench
//   -> run command(s) from the command palette -> wait for files / notifications -> screenshot.
//
// Usage:
//   node ../shared/vscode-real/drive.mjs --vsix X.vsix [--vsix Y.vsix] --folder /tmp/ws \
//        [--open README.txt] --command "Hello Test: Say Hello" [--command ...] [--type TEXT] [--key Enter] [--sleep S] \
//        [--wait-file /tmp/hello_ext_ran.txt] [--expect-notification "hello from"] \
//        [--screenshot /tmp/vscode_real/shot.png] [--port 0] [--work-dir DIR] [--timeout 90] \
//        [--setting key=jsonValue ...] [--env KEY=VALUE ...] [--keep-work-dir]
//
// (Copied from the team's vscode-real kit and extended for codegen's end-to-end tests: steps that wait
//  for quick-pick rows, pick them, wait for notifications / files / selectors mid-flow, go to a line,
//  and take a screenshot mid-flow.)
//
// --open/--command/--type/--key/--sleep are UI steps run in command-line order after the workbench is up:
//   --open FILE     Quick Open (Ctrl+P) a workspace-relative file, wait for its editor
//   --command T     F1 (fallback Ctrl+Shift+P), type T, pick the row whose label contains T (not just row 1:
//                   VS Code shows fuzzy "similar commands" for unknown titles), Enter
//   --type TEXT     keyboard.type into the focused element;  --key K  keyboard.press (Enter, Escape, Control+S)
//   --wait SEL      wait until an element matching the Playwright selector SEL is visible
//   --wait-input T  wait until a visible quick input's title, message or placeholder contains T
//   --wait-value V  wait until the visible quick input's text box holds exactly V
//   --wait-pick T   wait until the open quick input lists a row whose label contains T
//   --pick T        wait for that row, then choose it (Enter when it is the active row, else a click)
//   --wait-notification T   wait for a notification toast containing T (mid-flow)
//   --absent-file P fail if file P exists (mid-flow)
//   --await-file P  wait for file P to exist (mid-flow);  --await-text P T  wait until file P contains T;  --goto N  go to line N (Ctrl+G)
//   --shot P        screenshot now (mid-flow)
// --wait-file / --expect-notification are checked after all steps; --setting k=json goes to User/settings.json;
// --env K=V is passed to code-server (and so to the extension host and anything it spawns).
// Locations (defaults follow setup.sh):
//   VSCODE_REAL_HOME      default /tmp/vscode_real_home (has node_modules/{code-server,playwright-core})
//   CODE_SERVER_ENTRY     default $VSCODE_REAL_HOME/node_modules/code-server/out/node/entry.js
//   PLAYWRIGHT_CORE_DIR   default $VSCODE_REAL_HOME/node_modules/playwright-core
//   CHROMIUM              default /usr/bin/chromium
// Prints one JSON summary line on stdout (prefixed "RESULT "); exit code 0 on success.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// ------------------------------------------------------------------ args
const argv = process.argv.slice(2);
const opt = { vsix: [], steps: [], waitFile: [], expectNotification: [], setting: [], env: [] };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => { if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`); return argv[++i]; };
  switch (a) {
    case '--vsix': opt.vsix.push(path.resolve(next())); break;
    case '--folder': opt.folder = path.resolve(next()); break;
    // ordered UI steps, executed in the order given on the command line
    case '--command': opt.steps.push({ kind: 'command', value: next() }); break;
    case '--open': opt.steps.push({ kind: 'open', value: next() }); break;
    case '--type': opt.steps.push({ kind: 'type', value: next() }); break;
    case '--key': opt.steps.push({ kind: 'key', value: next() }); break;
    case '--sleep': opt.steps.push({ kind: 'sleep', value: Number(next()) }); break;
    case '--click': opt.steps.push({ kind: 'click', value: next() }); break;          // first match, if any
    case '--click-all': opt.steps.push({ kind: 'clickAll', value: next() }); break;  // until none match
    case '--dump': opt.steps.push({ kind: 'dump', value: next() }); break;            // outerHTML of matches -> result.dumps
    case '--wait-file': opt.waitFile.push(path.resolve(next())); break;
    case '--expect-notification': opt.expectNotification.push(next()); break;
    case '--screenshot': opt.screenshot = path.resolve(next()); break;
    case '--port': opt.port = Number(next()); break;
    case '--work-dir': opt.workDir = path.resolve(next()); break;
    case '--timeout': opt.timeout = Number(next()); break;
    case '--setting': opt.setting.push(next()); break;
    case '--env': opt.env.push(next()); break;
    case '--keep-work-dir': opt.keepWorkDir = true; break;
    case '--settle': opt.settle = Number(next()); break;
    case '--wait': opt.steps.push({ kind: 'wait', value: next() }); break;
    case '--wait-input': opt.steps.push({ kind: 'waitInput', value: next() }); break;
    case '--wait-value': opt.steps.push({ kind: 'waitValue', value: next() }); break;
    case '--wait-pick': opt.steps.push({ kind: 'waitPick', value: next() }); break;
    case '--pick': opt.steps.push({ kind: 'pick', value: next() }); break;
    case '--wait-notification': opt.steps.push({ kind: 'waitNotification', value: next() }); break;
    case '--await-file': opt.steps.push({ kind: 'awaitFile', value: path.resolve(next()) }); break;
    case '--await-text': { const file = path.resolve(next()); opt.steps.push({ kind: 'awaitText', value: file, text: next() }); break; }
    case '--absent-file': opt.steps.push({ kind: 'absentFile', value: path.resolve(next()) }); break;
    case '--goto': opt.steps.push({ kind: 'goto', value: next() }); break;
    case '--shot': opt.steps.push({ kind: 'shot', value: path.resolve(next()) }); break;
    case '-h': case '--help':
      console.log(fs.readFileSync(new URL(import.meta.url)).toString().split('\n').filter(l => l.startsWith('//')).join('\n'));
      process.exit(0);
    default: throw new Error(`unknown argument ${a}`);
  }
}
const TIMEOUT_MS = (opt.timeout || 90) * 1000;
const HOME = process.env.VSCODE_REAL_HOME || '/tmp/vscode_real_home';
const ENTRY = process.env.CODE_SERVER_ENTRY || path.join(HOME, 'node_modules/code-server/out/node/entry.js');
const PW_DIR = process.env.PLAYWRIGHT_CORE_DIR || path.join(HOME, 'node_modules/playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const require = createRequire(path.join(PW_DIR, 'package.json'));
const { chromium } = require(PW_DIR);

const t0 = Date.now();
const timings = {};
const mark = (k) => { timings[k] = +((Date.now() - t0) / 1000).toFixed(2); log(`${k} @ ${timings[k]}s`); };
function log(...a) { console.error('[drive]', ...a); }
const sleep = (ms) => new Promise(r => setTimeout(r, ms));

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}
async function waitFor(fn, what, ms = TIMEOUT_MS, every = 250) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    await sleep(every);
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
}

// ------------------------------------------------------------------ dirs + settings
const work = opt.workDir || fs.mkdtempSync(path.join(os.tmpdir(), 'vscode-real-'));
const ud = path.join(work, 'user-data'), extDir = path.join(work, 'extensions');
fs.mkdirSync(path.join(ud, 'User'), { recursive: true });
fs.mkdirSync(extDir, { recursive: true });
const config = path.join(work, 'config.yaml');
fs.writeFileSync(config, 'auth: none\ncert: false\n'); // keep code-server off ~/.config/code-server
const settings = {
  'security.workspace.trust.enabled': false,   // no "Do you trust the authors" modal
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.commandCenter.enabled': false,
  'git.enabled': false,
};
for (const kv of opt.setting) {
  const i = kv.indexOf('=');
  const k = kv.slice(0, i), v = kv.slice(i + 1);
  try { settings[k] = JSON.parse(v); } catch { settings[k] = v; }
}
fs.writeFileSync(path.join(ud, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
const baseArgs = ['--config', config, '--user-data-dir', ud, '--extensions-dir', extDir];
// code-server writes logs + a heartbeat under $XDG_DATA_HOME/code-server regardless of --user-data-dir:
// keep that inside the work dir too.
const childEnv = { ...process.env, XDG_DATA_HOME: path.join(work, 'xdg-data'), XDG_CONFIG_HOME: path.join(work, 'xdg-config') };
for (const kv of opt.env) { const i = kv.indexOf('='); childEnv[kv.slice(0, i)] = kv.slice(i + 1); }

const result = { ok: false, workDir: work, timings, commands: [], notifications: [], waitedFiles: {}, errors: [] };
let server, browser;

async function main() {
  // ---------------------------------------------------------------- install extensions
  for (const v of opt.vsix) {
    const r = spawnSync(process.execPath, [ENTRY, ...baseArgs, '--install-extension', v, '--force'], { encoding: 'utf8', env: childEnv });
    log((r.stdout + r.stderr).trim());
    if (r.status !== 0 || !/successfully installed/.test(r.stdout + r.stderr)) throw new Error(`install of ${v} failed`);
  }
  mark('extensions_installed');

  // ---------------------------------------------------------------- start code-server
  const port = opt.port || await freePort();
  const csLog = path.join(work, 'code-server.log');
  const out = fs.openSync(csLog, 'a');
  server = spawn(process.execPath, [ENTRY, ...baseArgs,
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--ignore-last-opened',
    ...(opt.folder ? [opt.folder] : [])],
  { stdio: ['ignore', out, out], env: childEnv, detached: true });
  result.codeServerLog = csLog;
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 'code-server /healthz', 30000);
  mark('code_server_up');

  // ---------------------------------------------------------------- chromium
  // launchPersistentContext = fresh profile dir under the work dir (launch() rejects --user-data-dir).
  browser = await chromium.launchPersistentContext(path.join(work, 'chromium-profile'), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1400, height: 850 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--no-default-browser-check'],
  });
  mark('chromium_up');
  const ctx = browser;
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('console', m => { if (m.type() === 'error') result.errors.push('console: ' + m.text().slice(0, 300)); });
  page.on('pageerror', e => result.errors.push('pageerror: ' + String(e).slice(0, 300)));
  page.on('response', r => { if (r.status() >= 400) result.errors.push(`http ${r.status()}: ${r.url().slice(0, 200)}`); });
  const url = `http://127.0.0.1:${port}/` + (opt.folder ? `?folder=${encodeURIComponent(opt.folder)}` : '');
  result.url = url;
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: TIMEOUT_MS });
  await page.waitForSelector('.monaco-workbench', { timeout: TIMEOUT_MS });
  await page.waitForSelector('.part.statusbar', { timeout: TIMEOUT_MS });
  if (opt.folder) await page.waitForSelector('.explorer-folders-view, .pane-body .monaco-list', { timeout: TIMEOUT_MS }).catch(() => {});
  mark('workbench_visible');
  // Let the remote extension host come up (its status bar entries / the "remote" indicator).
  await sleep((opt.settle ?? 3) * 1000);

  // ---------------------------------------------------------------- UI steps
  for (const [i, st] of opt.steps.entries()) {
    if (st.kind === 'open') await quickOpen(page, st.value);           // Quick Open (Ctrl+P) a workspace file
    else if (st.kind === 'command') { await runPaletteCommand(page, st.value); result.commands.push(st.value); }
    else if (st.kind === 'type') await page.keyboard.type(st.value, { delay: 20 }); // into whatever has focus
    else if (st.kind === 'key') await page.keyboard.press(st.value);  // e.g. Enter, Escape, Control+S
    else if (st.kind === 'sleep') await sleep(st.value * 1000);
    else if (st.kind === 'click') { const el = await page.$(st.value); if (el) await el.click(); result.clicks = (result.clicks || 0) + (el ? 1 : 0); }
    else if (st.kind === 'clickAll') {
      for (let k = 0; k < 60; k++) { const el = await page.$(st.value); if (!el) break; await el.click(); result.clicks = (result.clicks || 0) + 1; await sleep(250); }
    }
    else if (st.kind === 'wait') await page.waitForSelector(st.value, { state: 'visible', timeout: TIMEOUT_MS });
    else if (st.kind === 'waitInput') await waitFor(async () => {
      const titles = await page.$$eval('.quick-input-widget .quick-input-title, .quick-input-widget .quick-input-message, .quick-input-widget input',
        els => els.filter(e => e.offsetParent !== null).map(e => (e.innerText || '') + ' ' + (e.getAttribute('placeholder') || '')));
      return titles.some(t => t.includes(st.value));
    }, `quick input showing "${st.value}"`);
    else if (st.kind === 'waitValue') await waitFor(async () => {
      const values = await page.$$eval('.quick-input-widget input', els => els.filter(e => e.offsetParent !== null).map(e => e.value));
      return values.includes(st.value);
    }, `quick input holding "${st.value}"`);
    else if (st.kind === 'waitPick') await quickPickRow(page, st.value);
    else if (st.kind === 'pick') await pickRow(page, st.value);
    else if (st.kind === 'waitNotification') result.notifications.push(await waitNotification(page, st.value));
    else if (st.kind === 'awaitFile') await waitFor(() => fs.existsSync(st.value), `file ${st.value}`);
    else if (st.kind === 'absentFile') { if (fs.existsSync(st.value)) throw new Error(`file ${st.value} exists`); }
    else if (st.kind === 'awaitText') await waitFor(() => fs.existsSync(st.value) && fs.readFileSync(st.value, 'utf8').includes(st.text), `"${st.text}" in ${st.value}`);
    else if (st.kind === 'goto') await gotoLine(page, st.value);
    else if (st.kind === 'shot') { fs.mkdirSync(path.dirname(st.value), { recursive: true }); await sleep(400); await page.screenshot({ path: st.value }); result.shots = [...(result.shots || []), st.value]; }
    else if (st.kind === 'dump') { result.dumps = result.dumps || []; result.dumps.push(...(await page.$$eval(st.value, els => els.map(e => e.outerHTML.slice(0, 3000))))); }
    mark(`step${i + 1}:${st.kind}:${st.value}`);
  }

  for (const f of opt.waitFile) {
    await waitFor(() => fs.existsSync(f), `file ${f}`);
    result.waitedFiles[f] = fs.readFileSync(f, 'utf8').slice(0, 500);
    mark(`file_seen:${path.basename(f)}`);
  }
  for (const text of opt.expectNotification) {
    result.notifications.push(await waitNotification(page, text));
    mark(`notification_seen:${text}`);
  }
  await sleep(500);
  if (opt.screenshot) {
    fs.mkdirSync(path.dirname(opt.screenshot), { recursive: true });
    await page.screenshot({ path: opt.screenshot });
    result.screenshot = opt.screenshot;
    mark('screenshot');
  }
  // Collect whatever notifications are visible, for the record.
  result.visibleNotifications = await page.$$eval('.notifications-toasts .notification-list-item',
    els => els.map(e => e.innerText.replace(/\s+/g, ' ').trim())).catch(() => []);
  result.ok = true;
}

async function waitNotification(page, text) {
  return waitFor(async () => {
    const ts = await page.$$eval('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item',
      els => els.map(e => e.innerText.replace(/\s+/g, ' ').trim()));
    return ts.find(t => t.includes(text));
  }, `notification containing "${text}"`);
}

async function quickPickRow(page, text) {
  // A visible quick input's row whose label contains `text` (case-insensitive).
  return waitFor(async () => {
    const rows = await page.$$('.quick-input-widget:visible .quick-input-list .monaco-list-row');
    for (const r of rows) {
      const label = ((await r.getAttribute('aria-label')) || (await r.innerText())).replace(/\s+/g, ' ');
      if (label.toLowerCase().includes(text.toLowerCase())) return r;
    }
    return null;
  }, `quick pick row "${text}"`);
}

async function pickRow(page, text) {
  const row = await quickPickRow(page, text);
  const focused = await row.evaluate(r => r.classList.contains('focused'));
  if (focused) await page.keyboard.press('Enter');
  else await row.click();
}

async function gotoLine(page, line) {
  await openQuickInput(page, ['Control+G']);
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await page.waitForSelector('.quick-input-widget', { state: 'hidden', timeout: 10000 }).catch(() => {});
}

async function openQuickInput(page, keys) {
  const input = '.quick-input-widget .quick-input-box input';
  // First without clicking (a click in the editor would move the cursor and drop the selection),
  // then after focusing the workbench by a click.
  for (const [i, key] of [...keys, ...keys].entries()) {
    if (i >= keys.length) await page.locator('.part.editor').click({ position: { x: 300, y: 200 } }).catch(() => {});
    await page.keyboard.press(key);
    if (await page.waitForSelector(input, { state: 'visible', timeout: i < keys.length ? 2500 : 5000 }).then(() => true, () => false)) return input;
  }
  await page.waitForSelector(input, { state: 'visible', timeout: 10000 });
  return input;
}

async function quickOpen(page, rel) {
  // Opens a workspace file by (relative) path through Quick Open and waits for its editor tab.
  const input = await openQuickInput(page, ['Control+P']);
  await page.fill(input, rel);
  const base = path.basename(rel);
  await waitFor(async () => {
    const rows = await page.$$('.quick-input-list .monaco-list-row');
    for (const r of rows) if (((await r.getAttribute('aria-label')) || '').includes(base)) return true;
    return false;
  }, `quick open entry "${rel}"`, 20000);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tabs-container .tab[aria-label*="${base}"]`, { timeout: 20000 });
  await page.waitForSelector('.editor-instance .monaco-editor', { timeout: 20000 });
}

async function runPaletteCommand(page, title) {
  // Focus the workbench and open the palette. F1 first, Ctrl+Shift+P as fallback.
  // The palette lists the commands known when it opens: an extension whose contributions were
  // still being read then (a busy machine) shows up on the next opening, so reopen until it does.
  const deadline = Date.now() + Math.min(30000, TIMEOUT_MS);
  for (;;) {
    const input = await openQuickInput(page, ['F1', 'Control+Shift+P']);
    await page.fill(input, '>' + title);
    // Wait until a row whose label matches the title (case-insensitive) is in the list, then pick it.
    const row = await waitFor(async () => {
      const rows = await page.$$('.quick-input-list .monaco-list-row');
      for (const r of rows) {
        const label = ((await r.getAttribute('aria-label')) || (await r.innerText())).replace(/\s+/g, ' ');
        if (label.toLowerCase().includes(title.toLowerCase())) return r;
      }
      return null;
    }, `palette entry "${title}"`, 4000).catch((e) => { if (Date.now() > deadline) throw e; return null; });
    if (!row) {
      log(`palette entry "${title}" not listed yet; reopening the palette`);
      await page.keyboard.press('Escape');
      await sleep(1000);
      continue;
    }
    const rows = await page.$$('.quick-input-list .monaco-list-row');
    if (rows[0] && (await rows[0].evaluate((a, b) => a === b, row))) await page.keyboard.press('Enter');
    else await row.click();
    await page.waitForSelector(input, { state: 'hidden', timeout: 10000 }).catch(() => {});
    return;
  }
}

async function cleanup() {
  try { if (browser) await browser.close(); } catch {}
  if (server && server.exitCode === null) {
    try { process.kill(-server.pid, 'SIGTERM'); } catch {}
    await sleep(500);
    try { process.kill(-server.pid, 'SIGKILL'); } catch {}
  }
  if (!opt.keepWorkDir && !opt.workDir && result.ok) {
    // keep the code-server log next to the screenshot if one was requested
    if (opt.screenshot && result.codeServerLog) {
      const dest = opt.screenshot.replace(/\.png$/, '') + '.code-server.log';
      try { fs.copyFileSync(result.codeServerLog, dest); result.codeServerLog = dest; } catch {}
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const hardTimer = setTimeout(() => {
  log('hard timeout'); result.errors.push('hard timeout');
  cleanup().then(() => { console.log('RESULT ' + JSON.stringify(result)); process.exit(3); });
}, TIMEOUT_MS * 3 + 60000);
try {
  await main();
} catch (e) {
  result.errors.push(String(e && e.stack || e).slice(0, 2000));
  log('FAILED:', e && e.message);
  if (opt.screenshot && browser) {
    try {
      const p = browser.pages()[0];
      if (p) { const f = opt.screenshot.replace(/\.png$/, '') + '.failure.png'; await p.screenshot({ path: f }); result.failureScreenshot = f; }
    } catch {}
  }
} finally {
  result.totalSeconds = +((Date.now() - t0) / 1000).toFixed(2);
  await cleanup();
  clearTimeout(hardTimer);
  console.log('RESULT ' + JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}
