"""The shipped rule sets, written against normalised (decoded, lower-case) text.

Every repeat is bounded and none is nested, so each rule is accepted by both engines
(see ``_patterns``). Rules target the shape of an attack (a quote closing a string and
an operator following, a tag with an event handler), not single words, so that prose,
search queries with apostrophes, markdown and code snippets pass.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SHIPPED_RULES", "Rule"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One detection rule; ``locations`` limits where it applies (empty: everywhere).

    A location is ``path``, ``query``, ``body`` or ``header:<name>``.
    """

    id: str
    category: str
    severity: str
    pattern: str
    locations: tuple[str, ...] = ()
    description: str = ""


_Q = "['\"`]"  # a quote that closes an SQL or JS string
# Commands that are rarely English words: any shell separator before them is enough.
_CMDS = (r"(?:cat|ls|id|whoami|uname|wget|curl|nc|ncat|netcat|bash|sh|zsh|ksh|ping|nslookup|"
         r"rm|chmod|chown|powershell|cmd|ipconfig|ifconfig|systeminfo|tasklist|printenv|"
         r"hostname|busybox|telnet|xterm|base64|passwd|net[ ]{1,4}(?:user|localgroup|view))")
# Commands that are also words (``I love C++ & Python;``): they need shell-looking args.
_WORDS = (r"(?:python[23]?|perl|ruby|php|echo|sleep|type|dir|more|head|tail|env|find|awk|"
          r"sed|timeout|reboot|kill|exec|dig)")
_FOLLOW = (r"(?:$|\x1e|[ ]{0,4}[;&`\n)]|[ ]{1,4}(?:[-/$<>'\"\\]|[a-z]:[/\\])"
           r"|[ ]{1,4}\w{1,40}[ ]{0,4}(?:$|\x1e|[;&|`]))")
_ARGS = r"(?:$|\x1e|[ ]{1,4}(?:[-/$<>'\"\\\d]|[a-z]:[/\\]))"

SHIPPED_RULES: tuple[Rule, ...] = (
    # -- SQL injection ------------------------------------------------------------------
    Rule("sqli.union", "sqli", "high",
         r"\bunion\b[ (]{0,6}(?:all[ (]{1,6}|distinct[ (]{1,6})?select\b[ (]{0,4}(?:null\b|"
         r"\d|\*|@@|'|\"|0x|[a-z_.()`]{1,64}[ ]{0,2}(?:,|\bfrom\b|\(|--|#))",
         description="UNION-based extraction"),
    Rule("sqli.tautology", "sqli", "high",
         _Q + r"[ )]{0,4}(?:or|and|xor|\|\||&&)[ (]{0,4}" + _Q + r"?[a-z0-9_]{0,20}" + _Q
         + r"?[ )]{0,3}(?:=|<>|!=|<|>|like\b|is\b|in\b)",
         description="quote, boolean operator, comparison: ' or 1=1 / ' or 'a'='a"),
    Rule("sqli.numeric_tautology", "sqli", "high",
         r"(?:^|[=\s(])-?\d{0,10}[ )]{1,4}(?:or|and|xor|\|\|)[ (]{1,4}\d{1,10}[ ]{0,2}"
         r"(?:=|<|>)[ ]{0,2}\d{1,10}",
         description="1 or 1=1 without quotes"),
    Rule("sqli.quote_operator", "sqli", "medium",
         _Q + r"[ )]{0,4}(?:or|and|xor)[ (]{1,4}(?:not[ (]{1,4})?(?:true|false|null|\d{1,10}"
         r"|sleep|exists|select|updatexml|extractvalue|ascii|substring|length|if|case|"
         r"benchmark|pg_sleep)\b",
         description="quote then boolean operator then an SQL term"),
    Rule("sqli.comment_terminator", "sqli", "high",
         r"[a-z0-9)]" + _Q + r"[ )]{0,4}(?:--|#|/\*|;[ ]{0,2}--|;[ ]{0,2}#|;[ ]{0,2}%00)",
         description="quote closed then the rest commented out: admin'--"),
    Rule("sqli.stacked", "sqli", "critical",
         r";[ ]{0,4}(?:drop|truncate|alter|create|delete|insert|update|exec|execute|declare|"
         r"shutdown|grant|revoke|rename)\b[ ]{1,4}(?:table|database|schema|from|into|user|"
         r"login|master|xp_|@|\w{1,64}[ ]{0,4}(?:set|values|\())",
         description="stacked query: ; drop table"),
    Rule("sqli.drop_table", "sqli", "critical",
         _Q + r"[ )]{0,4};?[ ]{0,4}drop[ ]{1,4}(?:table|database)\b",
         description="quote closed then DROP TABLE"),
    Rule("sqli.time_blind", "sqli", "high",
         r"(?:\b(?:and|or|if|then|select|when)\b|[;(" + "'\"" + r"]|\|\|)[ (]{0,4}"
         r"(?:sleep|pg_sleep|benchmark|randomblob)[ ]{0,2}\(|waitfor[ ]{1,4}(?:delay|time)[ ]{0,4}'"
         r"|dbms_pipe\.receive_message|dbms_lock\.sleep",
         description="time-based blind injection"),
    Rule("sqli.error_based", "sqli", "high",
         r"\b(?:extractvalue|updatexml|exp|floor|geometrycollection|multipoint|polygon|"
         r"json_keys|gtid_subset)[ ]{0,2}\([^)]{0,200}(?:select|concat|0x7e|version|"
         r"user[ ]{0,2}\(|database[ ]{0,2}\()",
         description="error-based extraction"),
    Rule("sqli.metadata", "sqli", "high",
         r"\binformation_schema\b|\bsysobjects\b|\bsyscolumns\b|\bmysql\.user\b|"
         r"\bpg_catalog\b|\bsqlite_master\b|\ball_tables\b|\bxp_cmdshell\b|@@version|"
         r"\bload_file[ ]{0,2}\(|\binto[ ]{1,4}(?:out|dump)file\b|\butl_inaddr\b|"
         r"\butl_http\b|\bpg_read_file\b|\bsys\.user_objects\b|\bmsysaccessobjects\b",
         description="database metadata or file functions"),
    Rule("sqli.order_probe", "sqli", "medium",
         r"(?:" + _Q + r"|\d)[ )]{0,4}(?:order|group)[ ]{1,4}by[ ]{1,4}\d{1,4}[ ]{0,4}"
         r"(?:--|#|;|\x1e|$)|\bhaving[ ]{1,4}\d{1,6}[ ]{0,2}=[ ]{0,2}\d{1,6}",
         description="column counting: ' order by 5--"),
    Rule("sqli.select_from", "sqli", "medium",
         _Q + r"[ );]{0,4}(?:\bselect\b[^;]{1,120}\bfrom\b|\binsert\b[ ]{1,4}into\b|"
         r"\bdelete\b[ ]{1,4}from\b|\bupdate\b[ ]{1,4}\w{1,64}[ ]{1,4}set\b|"
         r"\bexec\b[ ]{1,4}(?:master|xp_|sp_))",
         description="a quote closed then a statement"),
    Rule("sqli.char_concat", "sqli", "medium",
         r"\b(?:char|chr|concat|concat_ws|group_concat)[ ]{0,2}\([ ]{0,2}(?:\d{1,3}[ ]{0,2},"
         r"[ ]{0,2}\d{1,3}|0x[0-9a-f]{2,16}|@@|select|user|database|version)",
         description="string building used to dodge quotes"),
    # -- cross-site scripting ------------------------------------------------------------
    Rule("xss.script_tag", "xss", "high", r"<[ /]{0,2}script\b|</script[ ]{0,4}>"),
    Rule("xss.event_handler", "xss", "high",
         r"<[a-z!][^>]{0,300}[\s/\"'`]on[a-z]{3,30}[ ]{0,4}=",
         description="a tag with an on* event handler"),
    Rule("xss.attribute_breakout", "xss", "high",
         r"[\"'`][ /]{0,4}(?:on[a-z]{3,30}[ ]{0,4}=|>[ ]{0,4}<[a-z!/]|autofocus\b|style[ ]{0,2}=)",
         description="a quote closing an attribute, then a handler or a new tag"),
    Rule("xss.js_uri", "xss", "high",
         r"\b(?:java[ ]{0,4}script|vbscript|livescript)[ ]{0,4}:|\bdata[ ]{0,4}:[ ]{0,4}"
         r"(?:text/html|image/svg\+xml|application/(?:x-)?javascript)",
         description="javascript: and HTML data: URIs"),
    Rule("xss.dangerous_tag", "xss", "high",
         r"<[ ]{0,2}(?:iframe|frame|frameset|object|embed|applet|base|meta[^>]{0,100}"
         r"http-equiv|link[^>]{0,100}rel[ ]{0,2}=[ ]{0,2}['\"]?import|form[^>]{0,200}action"
         r"[ ]{0,2}=[ ]{0,2}['\"]?[ ]{0,2}javascript|svg|math|xmp|plaintext|isindex|"
         r"marquee|template|noscript|style)\b",
         description="tags that run or load content"),
    Rule("xss.js_call", "xss", "medium",
         r"(?:^|[;'\"`(>=+-])[ ]{0,4}(?:alert|prompt|confirm|eval|settimeout|setinterval|"
         r"fetch|import)[ ]{0,4}(?:\(|`)[^)]{0,100}(?:\)|`)|\bdocument[ ]{0,2}\.[ ]{0,2}"
         r"(?:cookie|domain|write)\b|\bstring\.fromcharcode\b|\bwindow\[|"
         r"\btop\[['\"`]|\bconstructor\.constructor\b|\batob[ ]{0,2}\(",
         description="script execution sinks"),
    Rule("xss.css_expression", "xss", "medium",
         r"\bexpression[ ]{0,4}\(|-moz-binding|@import[ ]{0,4}['\"]?[ ]{0,4}(?:javascript|"
         r"data)|behavior[ ]{0,4}:[ ]{0,4}url"),
    # -- path traversal -------------------------------------------------------------------
    Rule("traversal.dotdot", "path_traversal", "high",
         r"\.{2,4}[/\\;" + "\ufffd" + r"]{1,4}\.{2,4}[/\\;" + "\ufffd" + r"]|"
         r"[/\\]\.{2,4}(?:$|\x1e|%00)",
         description="../ in its decoded, doubled and overlong forms"),
    Rule("traversal.sensitive_file", "path_traversal", "high",
         r"/etc/(?:passwd|shadow|hosts|group|issue|sudoers|crontab|fstab|hostname|"
         r"resolv\.conf|nginx|apache2|httpd|ssh)|/proc/(?:self|\d{1,7})/|\bwin\.ini\b|"
         r"\bboot\.ini\b|windows[/\\]system32|\bsystem32[/\\]|\.htaccess\b|\.htpasswd\b|"
         r"(?:^|[/\\])\.git[/\\]|(?:^|[/\\=])\.env\b|\bweb\.config\b|/var/log/|\bid_rsa\b|"
         r"\.ssh[/\\]|c:[/\\](?:windows|boot|inetpub)|/usr/local/etc/|wp-config\.php"),
    Rule("traversal.wrapper", "path_traversal", "high",
         r"\b(?:php|file|zip|phar|expect|glob|data|jar|netdoc|compress\.zlib)://|"
         r"php://(?:filter|input)"),
    # -- command injection ----------------------------------------------------------------
    Rule("cmdi.separator", "command_injection", "critical",
         r"(?:[;\n&]|\|\||\|)[ ]{0,4}(?:/bin/|/usr/bin/)?" + _CMDS + _FOLLOW
         + r"|(?:[;\n]|&&|\|\||\|)[ ]{0,4}(?:/bin/|/usr/bin/)?" + _WORDS + _ARGS
         + r"|&[ ]{0,4}" + _WORDS + r"[ ]{1,4}(?:[-/$'\"\\\d]|[a-z]:[/\\])",
         description="a shell separator then a command: ; id, | cat /etc/passwd"),
    Rule("cmdi.substitution", "command_injection", "critical",
         r"\$\([ ]{0,4}(?:" + _CMDS + "|" + _WORDS + r")\b|`[ ]{0,4}(?:" + _CMDS + "|" + _WORDS
         + r")\b[^`]{0,100}`|\$\{ifs\}|"
         r"\$ifs\b|\$\{[a-z_]{1,20}:[0-9-]{1,4}"),
    Rule("cmdi.shell", "command_injection", "critical",
         r"/bin/(?:ba|z|k|da)?sh\b|\bcmd(?:\.exe)?[ ]{0,4}/[ck]\b|\bpowershell(?:\.exe)?"
         r"[ ]{1,4}-|/dev/(?:tcp|udp)/|\bnc(?:at)?[ ]{1,4}-[elvp]|\bmkfifo\b|"
         r"\bwget[ ]{1,4}https?://|\bcurl[ ]{1,4}[^|;&]{0,60}https?://"),
    # -- code injection: templates, expression languages, log4shell -----------------------
    Rule("code.log4shell", "code_injection", "critical",
         r"\$\{[ ]{0,4}(?:jndi|\$\{[^}]{0,40}\}|lower|upper|env|sys|java|date)[ ]{0,4}:"),
    Rule("code.template", "code_injection", "high",
         r"\{\{[^}]{0,60}(?:__class__|__globals__|__builtins__|__import__|__subclasses__|"
         r"__init__|config\.|self\.|request\.application|lipsum|cycler|joiner|\d{1,6}[ ]{0,2}"
         r"\*[ ]{0,2}\d{1,6})|\$\{[ ]{0,2}\d{1,6}[ ]{0,2}\*[ ]{0,2}\d{1,6}[ ]{0,2}\}|"
         r"<%=?[^%]{0,100}%>|#\{[^}]{0,100}\}|\*\{[^}]{0,100}\}|\{php\}|<\?php"),
    Rule("code.runtime", "code_injection", "high",
         r"\bruntime\.getruntime\(\)|\bprocessbuilder\b|\b__import__[ ]{0,2}\([ ]{0,2}['\"]os|"
         r"\bos\.(?:system|popen)[ ]{0,2}\(|\bsubprocess\.\w{1,20}[ ]{0,2}\(|"
         r"\bsystem[ ]{0,2}\([ ]{0,2}['\"]|\bpassthru[ ]{0,2}\(|\bshell_exec[ ]{0,2}\("),
    # -- SSRF-style targets ---------------------------------------------------------------
    Rule("ssrf.metadata", "ssrf", "high",
         r"169\.254\.169\.254|\bmetadata\.google\.internal\b|100\.100\.100\.200|"
         r"\bfd00:ec2::254\b|\bmetadata\.azure\.com\b|169\.254\.170\.2\b|"
         r"\b0xa9fea9fe\b|\b2852039166\b"),
    Rule("ssrf.internal_target", "ssrf", "medium",
         r"\b(?:https?|gopher|dict|ftp|ldap|tftp|sftp)://(?:[^/@\s]{0,64}@)?(?:127\.\d{1,3}"
         r"\.\d{1,3}\.\d{1,3}|localhost\b|0\.0\.0\.0|0x7f[0-9a-f.]{0,20}|2130706433|0177\.|"
         r"0\b|\[[0:]{2,40}1?\]|\[::ffff:|10\.\d{1,3}\.\d{1,3}\.\d{1,3}|"
         r"192\.168\.\d{1,3}\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}|"
         r"[a-z0-9.-]{0,60}\.(?:internal|local|localdomain)\b|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"
         r"\.(?:nip\.io|xip\.io|sslip\.io))"),
    Rule("ssrf.scheme", "ssrf", "high", r"\b(?:gopher|dict|ldap|tftp)://"),
    # -- scanners (user agent only) -------------------------------------------------------
    Rule("scanner.user_agent", "scanner", "medium",
         r"sqlmap|nikto|fuzz faster u fool|\bnmap\b|"
         r"masscan|acunetix|nessus|openvas|\bw3af\b|dirbuster|gobuster|"
         r"wfuzz|\bffuf\b|nuclei|zgrab|burp(?:suite|collaborator)|havij|netsparker|appscan|"
         r"wpscan|whatweb|jaeles|arachni|skipfish|owasp[ _-]?zap|\bzap/|commix|feroxbuster|"
         r"xsstrike|dirsearch|hydra|medusa|\bzmeu\b|morfeus|brutus|\bqualys|"
         r"\binteractsh\b|fimap|grabber|paros|webinspect",
         locations=("header:user-agent",)),
)
