"""Drives a page in headless Chromium (Debian's chromium and chromium-driver, through selenium)
and prints what happened as one JSON line; tests/it/browser.rs checks the rest.

    browser_client.py demo PAGE_URL FILE SCREENSHOT
        the demo page: picks FILE, presses Upload, waits for the download link or the error,
        then downloads the link's file in the page (through the bucket's CORS)
    browser_client.py chatjs PAGE_URL FILE SCREENSHOT
        tests/it/clients/chatjs: amazon-connect-chatjs's own sendAttachment, then its
        downloadAttachment of the same attachment"""
import json
import shutil
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

client, page, path, screenshot = sys.argv[1:5]

# Fetches a URL in the page and hands back its bytes as base64 (or the error, as text).
DOWNLOAD = """
const [url, done] = arguments;
fetch(url).then(r => r.ok ? r.arrayBuffer() : Promise.reject(new Error('HTTP ' + r.status)))
  .then(b => { let s = ''; for (const x of new Uint8Array(b)) s += String.fromCharCode(x); done({downloaded: btoa(s)}); })
  .catch(e => done({download_error: String(e)}));
"""


def demo(driver):
    driver.find_element(By.ID, "file").send_keys(path)
    driver.find_element(By.ID, "upload").click()
    done = EC.any_of(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#attachments a.download")),
        EC.text_to_be_present_in_element((By.ID, "error"), ":"),
    )
    WebDriverWait(driver, 30).until(done)
    links = driver.find_elements(By.CSS_SELECTOR, "#attachments a.download")
    shown = {
        "attachment_id": links[0].get_attribute("data-attachment-id") if links else None,
        "href": links[0].get_attribute("href") if links else None,
        "error": driver.find_element(By.ID, "error").text,
        "status": driver.find_element(By.ID, "status").text,
    }
    if links:
        shown.update(driver.execute_async_script(DOWNLOAD, shown["href"]))
    return shown


def chatjs(driver):
    driver.find_element(By.ID, "file").send_keys(path)
    return driver.execute_async_script("const done = arguments[0]; window.chatRoundTrip().then(done);")


options = webdriver.ChromeOptions()
options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,900",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"):
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
driver.set_script_timeout(60)
try:
    driver.get(page)
    shown = {"demo": demo, "chatjs": chatjs}[client](driver)
    driver.save_screenshot(screenshot)
    shown["console"] = [entry.get("message") for entry in driver.get_log("browser")]
    print(json.dumps(shown))
finally:
    driver.quit()
