/**
 * The demo in a real browser: headless Chromium (Debian's `/usr/bin/chromium`, driven by
 * `playwright-core`) opens the chat demo, started as `pnpm demo` starts it but on free ports, with
 * an in-memory database and an 8-second maximum connection duration, in two browser contexts (two
 * people, two cookie jars, one at 390 px). They chat; Bob's join of the admin-only room is refused
 * with a sentence; Ada's replayed token and forged Origin land in her security log only; both
 * pages roll over and a message after it arrives once; Bob signs out and leaves Ada's online list.
 * Screenshots are saved under `test-artifacts/` (gitignored) at the repository root. Without Chromium the test is skipped with a printed reason, or fails when
 * `APIGW_WS_REQUIRE_SERVICES=1` (CI).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_PATH, skipWithout } from '../../../test/services.js'
import { type RunningChat, startChat } from '../src/start-chat.js'

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url))
/** Playwright's own waits (selectors, navigation): generous for a loaded 2-core machine. */
const PAGE_WAIT_MS = 20_000

const noChromium = skipWithout('chromium', '[example-chat] the browser test')

describe.skipIf(noChromium)('the chat demo in Chromium', () => {
  let chat: RunningChat
  let browser: Browser

  beforeAll(async () => {
    // Connections live 8 s and the page rolls over after 4 s, so a rollover happens mid-test.
    chat = await startChat({
      port: 0,
      gatewayPort: 0,
      databaseFile: ':memory:',
      maxDurationMs: 8_000,
      rolloverMs: 4_000,
    })
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await chat?.close()
  }, 30_000)

  async function signIn(name: string, viewport = { width: 1100, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport })
    const page = await context.newPage()
    page.setDefaultTimeout(PAGE_WAIT_MS)
    await page.goto(chat.url)
    await page.fill('#name', name)
    await page.click('#login-form button[type=submit]')
    await page.waitForSelector('#status[data-state="open"]')
    // On open the page joins the lobby; the two-way reply of `join` confirms it.
    await page.waitForSelector('.pane[data-room="lobby"] p:has-text("you joined lobby")')
    return page
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill('.pane[data-room="lobby"] input', text)
    await page.click('.pane[data-room="lobby"] button[type=submit]')
  }

  const lobbyLine = (text: string) => `.pane[data-room="lobby"] p:text-is("${text}")`
  const online = (page: Page) =>
    page.evaluate(() =>
      [...document.querySelectorAll('#online li')].map((li) => li.textContent).join(),
    )

  it('chats, refuses a join politely, keeps logs per person, survives a rollover', async () => {
    const ada = await signIn('ada')
    const bob = await signIn('bob', { width: 390, height: 844 })

    await say(ada, 'hello from ada')
    await bob.waitForSelector(lobbyLine('ada: hello from ada'))
    await say(bob, 'hi ada, bob here')
    await ada.waitForSelector(lobbyLine('bob: hi ada, bob here'))
    for (const page of [ada, bob])
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('#online li')].map((li) => li.textContent).join() ===
          'ada,bob',
      )

    // A refused join, as a person sees it: a sentence, not "Internal server error".
    await bob.click('.pane[data-room="staff"] .join')
    await bob.waitForSelector(
      '.pane[data-room="staff"] p:has-text("You can\'t join staff. It is for admins only.")',
    )
    await bob.waitForSelector('#log div:has-text("rejected CHANNEL_FORBIDDEN")')

    // Replaying the token the page connected with, and a forged Origin: both refused, both in
    // Ada's log and not in Bob's.
    await ada.click('#reuse-token')
    await ada.waitForSelector('#messages p:has-text("reused token refused by the gateway")')
    await ada.waitForSelector('#log div:has-text("rejected TOKEN_INVALID ($connect)")')
    await ada.click('#forged-origin')
    await ada.waitForSelector(
      '#messages p:has-text("connection from https://evil.example got HTTP 403")',
    )
    await ada.waitForSelector('#log div:has-text("rejected ORIGIN_REJECTED ($connect)")')
    expect(await ada.textContent('#log')).not.toContain('CHANNEL_FORBIDDEN')

    // Past the 8 s maximum duration: each page rolled over (make-before-break) at least once,
    // stayed connected, and a message after the rollover arrives exactly once.
    await ada.waitForTimeout(9_000)
    expect(await ada.getAttribute('#status', 'data-state')).toBe('open')
    expect(await bob.getAttribute('#status', 'data-state')).toBe('open')
    await say(ada, 'after the rollover')
    await bob.waitForSelector(lobbyLine('ada: after the rollover'))
    await bob.waitForTimeout(500)
    expect(await bob.locator(lobbyLine('ada: after the rollover')).count()).toBe(1)
    expect(await bob.locator(lobbyLine('ada: hello from ada')).count()).toBe(1)

    mkdirSync(ARTIFACTS, { recursive: true })
    await ada.screenshot({ path: `${ARTIFACTS}chat.png`, fullPage: true })
    await bob.screenshot({ path: `${ARTIFACTS}chat-390px-refused-join.png`, fullPage: true })
    expect(existsSync(`${ARTIFACTS}chat-390px-refused-join.png`)).toBe(true)
    // At 390 px nothing is wider than the screen.
    expect(await bob.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)

    // Bob signs out: his socket closes and Ada's online list drops him.
    await bob.click('#logout')
    await ada.waitForFunction(
      () =>
        [...document.querySelectorAll('#online li')].map((li) => li.textContent).join() === 'ada',
    )
    expect(await online(ada)).toBe('ada')
  }, 120_000)
})
