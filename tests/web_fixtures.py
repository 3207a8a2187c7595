"""Articles and index builders shared by the web, serve and browser tests.

The articles are written here (Vietnamese, 2021–2024 plus one from yesterday, five
categories, 13 mentioning "khoa học" so a search has two pages, one without a date) and indexed through the
public core API, the way the indexer does it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

import search

XSS_TITLE = '<script>alert("xss-title")</script> Cảnh báo lừa đảo qua mạng'
XSS_BODY = 'Kẻ gian gửi tin nhắn <img src=x onerror=alert("xss-body")> giả danh ngân hàng.'

# (category, title, body); dates are given in DATES, in the same order.
TEXTS = [
    ("Khoa học", "Các nhà khoa học phát hiện loài ếch mới ở Tây Nguyên",
     "Nhóm nhà khoa học của Viện Sinh thái công bố loài ếch mới tìm thấy ở Chư Yang Sin."),
    ("Khoa học", "Hội thảo khoa học về trí tuệ nhân tạo tại Hà Nội",
     "Hơn 300 nhà khoa học trao đổi về trí tuệ nhân tạo và dữ liệu lớn."),
    ("Khoa học", "Vệ tinh do kỹ sư Việt Nam chế tạo được phóng lên quỹ đạo",
     "Thành công mới của ngành khoa học vũ trụ: vệ tinh quan sát Trái Đất đã hoạt động."),
    ("Khoa học", "Giải thưởng khoa học trẻ vinh danh mười công trình",
     "Các công trình khoa học trẻ năm nay tập trung vào y sinh và môi trường."),
    ("Khoa học", "Khoa học dữ liệu giúp dự báo lũ lụt ở miền Trung",
     "Mô hình khoa học dữ liệu dự báo mực nước sông trước ba ngày."),
    ("Khoa học", "Phòng thí nghiệm vắc xin khai trương tại Thành phố Hồ Chí Minh",
     "Phòng thí nghiệm phục vụ nghiên cứu khoa học về vắc xin cúm."),
    ("Khoa học", "Nhà khoa học nữ nhận giải thưởng quốc tế về hóa học",
     "Bà được vinh danh nhờ các nghiên cứu khoa học về vật liệu xanh."),
    ("Khoa học", "Đưa khoa học đến gần trẻ em vùng cao",
     "Những chiếc kính thiên văn giúp học sinh vùng cao yêu khoa học."),
    ("Giáo dục", "Học sinh Hà Nội giành huy chương vàng Olympic Toán học",
     "Đoàn học sinh Việt Nam đạt thành tích cao tại kỳ thi Olympic Toán quốc tế."),
    ("Giáo dục", "Bộ Giáo dục công bố phương án thi tốt nghiệp",
     "Kỳ thi tốt nghiệp trung học phổ thông giữ ổn định như năm trước."),
    ("Giáo dục", "Trường đại học mở ngành khoa học máy tính",
     "Ngành khoa học máy tính tuyển 200 sinh viên trong năm đầu."),
    ("Giáo dục", "Giáo viên vùng cao vượt lũ đến trường",
     "Các thầy cô lội suối để kịp giờ lên lớp sau trận lũ."),
    ("Giáo dục", "Sinh viên nghiên cứu khoa học chế tạo robot nhặt rác",
     "Robot nhặt rác trên bãi biển là đề tài nghiên cứu khoa học của sinh viên Đà Nẵng."),
    ("Thể thao", "Đội tuyển bóng đá Việt Nam thắng Thái Lan",
     "Đội tuyển bóng đá Việt Nam thắng 2-0 trên sân Mỹ Đình."),
    ("Thể thao", "Vận động viên điền kinh phá kỷ lục SEA Games",
     "Cô gái vàng của điền kinh Việt Nam phá kỷ lục chạy 10.000 mét."),
    ("Thể thao", "Giải bóng đá vô địch quốc gia khởi tranh",
     "Mười bốn câu lạc bộ bóng đá bước vào mùa giải mới."),
    ("Thể thao", "Khoa học thể thao giúp cầu thủ hồi phục nhanh",
     "Đội tuyển áp dụng khoa học thể thao vào chế độ tập luyện và dinh dưỡng."),
    ("Thể thao", "Nữ vận động viên bơi lội giành ba huy chương vàng",
     "Thành tích bơi lội nổi bật nhất của đoàn thể thao Việt Nam."),
    ("Kinh tế", "Giá vàng trong nước tăng mạnh",
     "Giá vàng miếng tăng hơn một triệu đồng mỗi lượng trong phiên sáng."),
    ("Kinh tế", "Xuất khẩu gạo đạt kỷ lục",
     "Kim ngạch xuất khẩu gạo của Việt Nam cao nhất từ trước đến nay."),
    ("Kinh tế", "Ngân hàng Nhà nước giảm lãi suất điều hành",
     "Lãi suất giảm giúp doanh nghiệp tiếp cận vốn vay dễ hơn."),
    ("Kinh tế", "Doanh nghiệp đầu tư vào khoa học công nghệ được ưu đãi thuế",
     "Chính sách mới khuyến khích doanh nghiệp đầu tư cho khoa học và công nghệ."),
    ("Kinh tế", "Thị trường bất động sản phục hồi",
     "Giao dịch căn hộ tại Hà Nội tăng trở lại sau nhiều tháng trầm lắng."),
    ("Thời sự", "Bão số 3 đổ bộ vào các tỉnh miền Bắc",
     "Cơn bão gây mưa lớn và gió mạnh ở Quảng Ninh và Hải Phòng."),
    ("Thời sự", "Quốc hội thông qua luật khoa học và đổi mới sáng tạo",
     "Luật khoa học, công nghệ và đổi mới sáng tạo có hiệu lực từ năm sau."),
    ("Thời sự", "Hà Nội mở rộng tuyến đường sắt đô thị",
     "Tuyến đường sắt đô thị mới nối trung tâm với phía tây thành phố."),
    ("Thời sự", XSS_TITLE, XSS_BODY),
    ("Thời sự", "Lễ hội pháo hoa Đà Nẵng thu hút du khách",
     "Hàng chục nghìn du khách xem pháo hoa bên sông Hàn."),
]  # fmt: skip

DATES = [
    dt.date(2021, 3, 14), dt.date(2021, 9, 2), dt.date(2022, 1, 20), dt.date(2022, 6, 5),
    dt.date(2022, 11, 28), dt.date(2023, 2, 7), dt.date(2023, 3, 8), dt.date(2023, 11, 13),
    dt.date(2021, 7, 19), dt.date(2022, 3, 30), dt.date(2023, 8, 15), dt.date(2023, 10, 9),
    dt.date(2024, 4, 22), dt.date(2021, 12, 29), dt.date(2022, 5, 17), dt.date(2023, 2, 25),
    dt.date(2023, 11, 30), dt.date(2024, 8, 1), dt.date(2024, 1, 3), dt.date(2022, 10, 10),
    dt.date(2023, 6, 16), dt.date(2024, 2, 29), dt.date(2024, 9, 9), dt.date(2021, 9, 7),
    dt.date(2024, 6, 18), dt.date(2023, 12, 24), dt.date(2024, 11, 20), None,
]  # fmt: skip

MIN_KHOA_HOC_HITS = 13  # articles that mention "khoa học": two pages of ten
XSS_ID = "ts-27"


def articles() -> list[dict[str, object]]:
    """The fixture articles, plus one from yesterday so "7 ngày qua" finds something."""
    prefixes = {"Khoa học": "kh", "Giáo dục": "gd", "Thể thao": "tt", "Kinh tế": "kt"}
    out = []
    for number, ((category, title, body), date) in enumerate(zip(TEXTS, DATES, strict=True), 1):
        article_id = f"{prefixes.get(category, 'ts')}-{number}"
        url = (
            "javascript:alert('xss-url')" if article_id == XSS_ID else f"https://tin.example.vn/{article_id}"
        )
        out.append(
            {
                "id": article_id,
                "title": title,
                "summary": body.split(".")[0],
                "body": body,
                "date": date,
                "category": category,
                "source": "Báo Mẫu",
                "url": url,
            }
        )
    out.append(
        {
            "id": "ts-moi",
            "title": "Tin nóng: mưa lớn ở Hà Nội chiều qua",
            "summary": "Mưa lớn gây ngập nhiều tuyến phố.",
            "body": "Mưa lớn gây ngập nhiều tuyến phố nội thành Hà Nội.",
            "date": dt.date.today() - dt.timedelta(days=1),
            "category": "Thời sự",
            "source": "Báo Mẫu",
            "url": "https://tin.example.vn/ts-moi",
        }
    )
    return out


def build_index(path: Path) -> Path:
    with search.Index(str(path)).new_generation() as gen:
        gen.add_many(articles())
    return path


_shared: dict[str, Path] = {}


def shared_index(factory: pytest.TempPathFactory) -> Path:
    """The fixture index, built once per test session and only read by the tests."""
    if "index" not in _shared:
        _shared["index"] = build_index(factory.mktemp("web-index") / "index")
    return _shared["index"]


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields the base URL.

    One request at a time, as in a gunicorn sync worker.
    """
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


# Debian's Chromium, started as this machine needs (no sandbox as root, no background network).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Records as real exports have them: without a title (2,453 of Dân Trí's 2,653), with a thumbnail,
# without a URL. They go through the indexer's validation, which derives the missing titles.
READER_RECORDS = [
    {
        "id": "dt-1",
        "title": None,
        "body": "Giá vàng hôm nay tiếp tục tăng mạnh, vượt mốc 90 triệu đồng mỗi lượng khi nhà đầu tư "
        "đổ xô mua vào để giữ tài sản trước biến động của thị trường thế giới. Các doanh nghiệp "
        "kinh doanh vàng cho biết lượng khách tăng gấp đôi.\nNgân hàng Nhà nước đang theo dõi.",
        "date": "2024-10-02",
        "category": "Kinh tế",
        "url": "https://dantri.example.vn/kinh-doanh/gia-vang-tang-manh-20241002.htm",
    },
    {
        "id": "hue-1",
        "title": "Thành phố Huế đón khách du lịch dịp lễ",
        "body": "Du khách đến thành phố Huế tham quan Đại Nội và các lăng tẩm.",
        "date": "2024-09-03",
        "category": "Thời sự",
        "image": "https://img.example.vn/hue.jpg",
    },
    {
        "id": "hcm-2",
        "title": "Mưa lớn ở thành phố Hồ Chí Minh gây ngập nhiều tuyến đường",
        "body": "Cơn mưa chiều qua khiến nhiều tuyến đường ở thành phố Hồ Chí Minh ngập sâu.",
        "date": "2024-09-20",
        "category": "Thời sự",
        "url": "https://tin.example.vn/hcm-2",
    },
]
TITLELESS_ID = "dt-1"


def reader_articles() -> list[dict[str, object]]:
    from indexer.article import to_article

    return articles() + [to_article(record).to_dict() for record in READER_RECORDS]


def reader_index(factory: pytest.TempPathFactory) -> Path:
    """The fixture index with the reader's records, built once per test session."""
    if "reader" not in _shared:
        path = factory.mktemp("reader-index") / "index"
        with search.Index(str(path)).new_generation() as gen:
            gen.add_many(reader_articles())
        _shared["reader"] = path
    return _shared["reader"]
