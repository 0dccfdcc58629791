"""The owner's review pages, server-rendered (Jinja2, no JavaScript), under /review.

- session.py: the cookie session, the CSRF token, the flash message, sign-in/out, and the session guard
  (`SignedIn`, a dependency);
- render.py: templates, security headers, the error page, the 303 redirect, and `PageRoute` (no session:
  a 303 to the sign-in form);
- views.py: what each template is given (the account's live state and flags, the decision form's reading);
- pages.py: sign-in, the queue, the outbox, an account and its decision form;
- report_pages.py: the measurement report and its events CSV.

Decisions go through api/decisions.py, the JSON route's own service.
"""
