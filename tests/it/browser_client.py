"""Drives the demo page in headless Chromium (Debian's chromium and chromium-driver, through
selenium): picks a file, presses Upload, waits for the download link or the error, and prints
what the page shows as one JSON line. Run by tests/it/browser.rs, which checks the rest.

    browser_client.py PAGE_URL FILE SCREENSHOT"""
import json
import shutil
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

page, path, screenshot = sys.argv[1:4]

options = webdriver.ChromeOptions()
options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,900"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
try:
    driver.get(page)
    driver.find_element(By.ID, "file").send_keys(path)
    driver.find_element(By.ID, "upload").click()
    done = EC.any_of(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#attachments a.download")),
        EC.text_to_be_present_in_element((By.ID, "error"), ":"),
    )
    WebDriverWait(driver, 30).until(done)
    links = driver.find_elements(By.CSS_SELECTOR, "#attachments a.download")
    driver.save_screenshot(screenshot)
    print(json.dumps({
        "attachment_id": links[0].get_attribute("data-attachment-id") if links else None,
        "href": links[0].get_attribute("href") if links else None,
        "error": driver.find_element(By.ID, "error").text,
        "status": driver.find_element(By.ID, "status").text,
        "console": [entry.get("message") for entry in driver.get_log("browser")],
    }))
finally:
    driver.quit()
