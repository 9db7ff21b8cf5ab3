"""Names, notes and reasons that are HTML: a site must show them as text."""

XSS = "<script>alert(1)</script>"
HOSTILE_UNITS = [
    # unit_id, tier, name, parent_id
    ("D1", "department", "Sở Thông tin và Truyền thông", ""),
    ("D2", "department", XSS, ""),
    ("D3", "department", "Sở \"Kế hoạch\" & Đầu tư <b>đậm</b> 'nháy'", ""),
    ("X&1", "department", "<img src=x onerror=alert(2)>", ""),
    ("H1", "district", "UBND huyện <i>Côn Đảo</i>", ""),
    ("C1", "commune", "UBND xã \"><svg onload=alert(3)>", "H1"),
    ("C2", "commune", "UBND xã Long Sơn", "H1"),
]
HOSTILE_REASON = "</p><script>alert(4)</script> số liệu sai"
HOSTILE_AUTHORITY = "Công văn <a href=\"http://example.invalid/\">1/STTTT</a>"
