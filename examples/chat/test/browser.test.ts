/**
 * The demo in a real browser: headless Chromium (Debian's `/usr/bin/chromium`, driven by
 * `playwright-core`) opens the chat demo, started exactly as `pnpm demo` starts it but on free
 * ports with an in-memory database, in two browser contexts (two people, two cookie jars). Both
 * sign in, land in the lobby, chat, and each must see the other's message; then one of them
 * replays their last (already used) token and forges an Origin, and the security log panel must
 * show both refusals. A screenshot of each page is saved under `test-artifacts/` at the
 * repository root. Without Chromium the test is skipped with a printed reason, or fails when
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
    chat = await startChat({ port: 0, gatewayPort: 0, databaseFile: ':memory:' })
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

  async function signIn(name: string): Promise<Page> {
    const context = await browser.newContext()
    const page = await context.newPage()
    page.setDefaultTimeout(PAGE_WAIT_MS)
    await page.goto(chat.url)
    await page.fill('#name', name)
    await page.click('#login-form button[type=submit]')
    await page.waitForSelector('#status[data-state="open"]')
    // On open the page joins the lobby; the two-way reply of `join` confirms it.
    await page.waitForSelector('#messages p:has-text("you joined lobby")')
    return page
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill('#text', text)
    await page.click('#chat-form button[type=submit]')
  }

  it('lets two people chat in a room, and shows refused attempts in the security log', async () => {
    const ada = await signIn('ada')
    const bob = await signIn('bob')

    await say(ada, 'hello from ada')
    await bob.waitForSelector('#messages p:has-text("[lobby] ada: hello from ada")')
    await say(bob, 'hi ada, bob here')
    await ada.waitForSelector('#messages p:has-text("[lobby] bob: hi ada, bob here")')
    // Each also sees its own message (the channel fan-out includes the sender).
    await ada.waitForSelector('#messages p:has-text("[lobby] ada: hello from ada")')
    // Bob's page asked who is online when it connected; Ada's asked again when Bob joined.
    for (const page of [ada, bob]) {
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('#online li')].map((li) => li.textContent).join() ===
          'ada,bob',
      )
    }

    // Replaying the token the page connected with: the gateway refuses the handshake.
    await ada.click('#reuse-token')
    await ada.waitForSelector('#messages p:has-text("reused token refused by the gateway")')
    await ada.waitForSelector('#log div:has-text("rejected TOKEN_INVALID ($connect)")')

    // A socket from another origin with a valid token and the user's cookie: refused too.
    await ada.click('#forged-origin')
    await ada.waitForSelector(
      '#messages p:has-text("connection from https://evil.example got HTTP 403")',
    )
    await ada.waitForSelector('#log div:has-text("rejected ORIGIN_REJECTED ($connect)")')

    // Both pages are still connected after the refused attempts.
    expect(await ada.getAttribute('#status', 'data-state')).toBe('open')
    expect(await bob.getAttribute('#status', 'data-state')).toBe('open')

    mkdirSync(ARTIFACTS, { recursive: true })
    await ada.screenshot({ path: `${ARTIFACTS}chat.png`, fullPage: true })
    await bob.screenshot({ path: `${ARTIFACTS}chat-bob.png`, fullPage: true })
    expect(existsSync(`${ARTIFACTS}chat.png`)).toBe(true)
  }, 120_000)
})
