"""The live-reload tag in HTML responses: added before </body>, every other byte and header still right."""

from __future__ import annotations

import gzip

import tornado.testing
import tornado.web

from tornado_kit.serve.inject import TAG, add_injector

PAGE = "<!doctype html><html><head><title>t</title></head><body>" + "<p>hi</p>" * 200 + "</body></html>"  # >1 KiB: gzip


class PageHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(PAGE)

    def head(self) -> None:
        self.write(PAGE)


class StreamHandler(tornado.web.RequestHandler):
    """Streams the page in pieces that split `</body>` across two chunks."""

    async def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        cut = PAGE.index("</body>") + 3
        for piece in (PAGE[:20], PAGE[20:cut], PAGE[cut:]):
            self.write(piece)
            await self.flush()


class PromisedLengthHandler(tornado.web.RequestHandler):
    """Streams HTML with a Content-Length it set itself: the tag would break that promise."""

    async def get(self) -> None:
        self.set_header("Content-Type", "text/html")
        self.set_header("Content-Length", str(len(PAGE)))
        self.write(PAGE[:10])
        await self.flush()
        self.write(PAGE[10:])


class JsonHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write({"html": "</body>"})


class FragmentHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("<p>no body element</p>")


class InjectTest(tornado.testing.AsyncHTTPTestCase):
    def get_app(self) -> tornado.web.Application:
        app = tornado.web.Application(
            [
                (r"/page", PageHandler),
                (r"/stream", StreamHandler),
                (r"/promised", PromisedLengthHandler),
                (r"/json", JsonHandler),
                (r"/fragment", FragmentHandler),
            ],
            compress_response=True,
        )
        add_injector(app)
        return app

    def test_the_tag_goes_before_body_and_content_length_counts_it(self) -> None:
        response = self.fetch("/page", decompress_response=False)
        assert response.body == PAGE.replace("</body>", TAG.decode() + "</body>").encode()
        assert int(response.headers["Content-Length"]) == len(response.body)

    def test_head_announces_the_same_length_as_get(self) -> None:
        get = self.fetch("/page", decompress_response=False)
        head = self.fetch("/page", method="HEAD", decompress_response=False)
        assert head.body == b""
        assert head.headers["Content-Length"] == get.headers["Content-Length"]

    def test_etag_and_304_still_work(self) -> None:
        first = self.fetch("/page")
        again = self.fetch("/page", headers={"If-None-Match": first.headers["Etag"]})
        assert again.code == 304
        assert again.body == b""

    def test_gzip_compresses_the_page_with_the_tag(self) -> None:
        response = self.fetch("/page", headers={"Accept-Encoding": "gzip"}, decompress_response=False)
        assert response.headers["Content-Encoding"] == "gzip"
        assert int(response.headers["Content-Length"]) == len(response.body)
        assert gzip.decompress(response.body).count(TAG) == 1

    def test_a_streamed_page_gets_the_tag_once_even_with_body_split_over_chunks(self) -> None:
        response = self.fetch("/stream")
        assert response.body == PAGE.replace("</body>", TAG.decode() + "</body>").encode()

    def test_a_stream_with_a_promised_length_is_left_alone(self) -> None:
        response = self.fetch("/promised")
        assert response.body == PAGE.encode()

    def test_non_html_and_pages_without_body_are_untouched(self) -> None:
        assert b"live-reload" not in self.fetch("/json").body
        assert self.fetch("/fragment").body == b"<p>no body element</p>"
