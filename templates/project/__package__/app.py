"""Placeholder app, replaced by the real skeleton."""

import tornado.web


class HomeHandler(tornado.web.RequestHandler):
    async def get(self) -> None:
        self.write("hello")


def make_app(settings=None) -> tornado.web.Application:
    return tornado.web.Application([(r"/", HomeHandler)], **(settings or {}))
