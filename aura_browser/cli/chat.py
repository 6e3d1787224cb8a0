"""`aura-browser chat`: an interactive conversation that keeps its history and streams each reply."""

from __future__ import annotations

import sys

import click

from .options import ConnectOptions, ReplyOptions, SiteOptions, question_options


@click.command()
@question_options("chat", system_help="System prompt to start with (/system changes it).")
def chat(site: SiteOptions, system: str | None, reply: ReplyOptions, connect: ConnectOptions) -> None:
    """Talk with the site: each line you type is sent with the conversation so far.

    \b
    Commands:
      /system TEXT   set the system prompt (no TEXT: none)
      /reset         start a new conversation (the system prompt stays)
      /save FILE     write the conversation as JSON, in the site's conversationHistory shape
      /exit          leave (so does Ctrl-D)
    Ctrl-C during a reply stops that reply, not the session. Replies go to stdout, all
    else to stderr. Logs in first when there is no usable profile. With stdin not a
    terminal, the exit code is that of the last reply that failed (as `ask` gives it), 0
    only when every reply succeeded.

    \b
    Examples:
      aura-browser chat --system "Answer in French"
      printf 'Hi\\n/save chat.json\\n' | aura-browser chat > transcript.txt
    """
    from ..tools.conversation import Conversation
    from .chat_session import HELP, ChatSession

    interactive = sys.stdin.isatty()
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
        click.echo(f"Chatting with {site.base_url} (profile {site.settings().profile_name}). {HELP}", err=True)

    def read_line() -> str:
        return input("you> " if interactive else "")

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    conversation = Conversation(system=system or "", model=reply.model, temperature=reply.temperature,
                                max_tokens=reply.max_tokens)
    session = ChatSession(site.client(**connect.client_kwargs()), conversation, read_line=read_line, write=write,
                          note=lambda text: click.echo(text, err=True))
    session.run()
    if not interactive and session.failure_code:
        # A script reads the outcome from the exit code: that of the last reply that failed, as `ask` gives it.
        click.get_current_context().exit(session.failure_code)
